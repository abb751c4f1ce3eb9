/**
 * `npm run test:ha`: a Redis Sentinel group (primary, replica, three Sentinels) whose primary
 * is SIGKILLed under load. Apart from `npm test`: on a CPU-starved machine (the parallel
 * tiers) the worker has been seen not to come back after the failover (README "Scaling out").
 */
module.exports = require('../support/suite-jest-config')('ha', 300_000);
