/**
 * `npm run test:browser`: Debian's chromium, headless and driven by playwright-core, opens
 * the API's Swagger UI and the Bull Board dashboard. Separate from `npm test` because it
 * needs the chromium package (apt-get install -y chromium). It fails, never skips, when
 * chromium is missing.
 */
module.exports = require('../support/suite-jest-config')('browser', 60_000);
