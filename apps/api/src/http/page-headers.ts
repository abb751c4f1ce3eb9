import type { RequestHandler } from 'express';

/**
 * Headers for the HTML pages we serve (Swagger UI, Bull Board): a Content-Security-Policy
 * naming exactly what the page loads, no framing (clickjacking an admin page), and no
 * content sniffing. `directives` maps each CSP directive to its sources.
 */
export function pageSecurityHeaders(directives: Record<string, string[]>): RequestHandler {
  const csp = Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
  return (_req, res, next) => {
    res.set({ 'Content-Security-Policy': csp, 'X-Frame-Options': 'DENY', 'X-Content-Type-Options': 'nosniff' });
    next();
  };
}
