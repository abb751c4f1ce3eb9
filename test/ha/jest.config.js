/**
 * `npm run test:ha`: a Redis Sentinel group (primary, replica, three Sentinels) whose primary
 * is SIGKILLed during 200 creates. Apart from `npm test` while its fix (Sentinel mode without
 * ioredis's failoverDetector, README "Scaling out") gathers runs.
 */
module.exports = require('../support/suite-jest-config')('ha', 300_000);
