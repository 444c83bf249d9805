import { declareHttpVectorSuite } from '../helpers/vector-runner.ts';

/** Every conformance scenario over real HTTP (uWS, worker threads, journal writer) at pool size 1. */
declareHttpVectorSuite(1);
