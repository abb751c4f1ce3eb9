import { errorResponse } from '@bootlun/contracts';
import { z } from 'zod';
import { ROUTE_DOCS, type RouteDoc } from './route-docs';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;

function queryParameters(schema: z.ZodType | undefined) {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: s }));
}

function operation(doc: RouteDoc) {
  const pathParams = [...doc.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: m[1] === 'id' ? { type: 'string', format: 'uuid' } : { type: 'string' } }));
  const [status, schema] = doc.success;
  return {
    summary: doc.summary,
    tags: [doc.tag],
    description: [doc.description, doc.role === 'public' ? 'No API key (reached by node firmware).' : `Requires an API key with role ${doc.role} or higher.`].filter(Boolean).join('\n\n'),
    security: doc.role === 'public' ? [] : [{ bearer: [] }],
    parameters: [...pathParams, ...queryParameters(doc.query)],
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } } } : {}),
    responses: {
      [status]: { description: 'success', content: { [doc.contentType ?? 'application/json']: { schema: jsonSchema(schema, 'output') } } },
      ...Object.fromEntries(doc.errors.map((code) => [code, { $ref: `#/components/responses/Error${code}` }])),
    },
  };
}

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input; `fields` names the offending fields',
  401: 'no or invalid API key',
  403: 'the key lacks the role',
  404: 'unknown id, or a path segment that cannot be an id',
  409: 'state conflict (name taken, LUN assigned, operation running); `no_capacity` when a LUN to be placed fits on no backend; `lun_in_use` for a rollback of an assigned LUN without force; `not_supported` when the backend cannot do it (snapshots on LVM without a thin pool)',
  413: 'body too large',
  429: 'rate limited',
  503: 'database or queue unreachable',
};

/** OpenAPI 3.1 generated from the same zod schemas the routes validate with. */
export function buildOpenApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of ROUTE_DOCS) {
    const path = `/api/v1${doc.path.replace(/:(\w+)/g, '{$1}')}`;
    (paths[path] ??= {})[doc.method] = operation(doc);
  }
  const errorSchema = jsonSchema(errorResponse, 'output');
  return {
    openapi: '3.1.0',
    info: { title: 'bootlun — iSCSI boot-LUN manager', version, description: 'Create, assign and serve iSCSI boot LUNs. Every response uses the envelope {success, data, message?} / {success, data, total} / {success:false, error, detail}.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key: blk_…' } },
      responses: Object.fromEntries(Object.entries(ERROR_TEXT).map(([code, text]) => [`Error${code}`, { description: text, content: { 'application/json': { schema: errorSchema } } }])),
    },
    paths,
  };
}
