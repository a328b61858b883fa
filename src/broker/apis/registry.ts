// Every API this broker serves, by key, and the version ranges ApiVersions advertises.

import type { Api, ApiRange } from './api.js';
import { addOffsetsToTxnApi } from './add-offsets-to-txn.js';
import { addPartitionsToTxnApi } from './add-partitions-to-txn.js';
import { alterConfigsApi } from './alter-configs.js';
import { apiVersionsApi } from './api-versions.js';
import { createPartitionsApi } from './create-partitions.js';
import { createTopicsApi } from './create-topics.js';
import { deleteGroupsApi } from './delete-groups.js';
import { deleteRecordsApi } from './delete-records.js';
import { deleteTopicsApi } from './delete-topics.js';
import { describeClusterApi } from './describe-cluster.js';
import { describeConfigsApi } from './describe-configs.js';
import { describeGroupsApi } from './describe-groups.js';
import { endTxnApi } from './end-txn.js';
import { fetchApi } from './fetch.js';
import { findCoordinatorApi } from './find-coordinator.js';
import { heartbeatApi } from './heartbeat.js';
import { incrementalAlterConfigsApi } from './incremental-alter-configs.js';
import { initProducerIdApi } from './init-producer-id.js';
import { joinGroupApi } from './join-group.js';
import { leaveGroupApi } from './leave-group.js';
import { listGroupsApi } from './list-groups.js';
import { listOffsetsApi } from './list-offsets.js';
import { metadataApi } from './metadata.js';
import { offsetCommitApi } from './offset-commit.js';
import { offsetDeleteApi } from './offset-delete.js';
import { offsetFetchApi } from './offset-fetch.js';
import { produceApi } from './produce.js';
import { saslAuthenticateApi } from './sasl-authenticate.js';
import { saslHandshakeApi } from './sasl-handshake.js';
import { syncGroupApi } from './sync-group.js';
import { txnOffsetCommitApi } from './txn-offset-commit.js';

/** All API modules, in key order. */
export const ALL_APIS: readonly Api[] = [
  produceApi,
  fetchApi,
  listOffsetsApi,
  metadataApi,
  offsetCommitApi,
  offsetFetchApi,
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
  describeGroupsApi,
  listGroupsApi,
  saslHandshakeApi,
  apiVersionsApi,
  createTopicsApi,
  deleteTopicsApi,
  deleteRecordsApi,
  initProducerIdApi,
  addPartitionsToTxnApi,
  addOffsetsToTxnApi,
  endTxnApi,
  txnOffsetCommitApi,
  describeConfigsApi,
  alterConfigsApi,
  saslAuthenticateApi,
  createPartitionsApi,
  deleteGroupsApi,
  incrementalAlterConfigsApi,
  offsetDeleteApi,
  describeClusterApi,
];

const SASL_KEYS = new Set([saslHandshakeApi.key, saslAuthenticateApi.key]);

/** The APIs served by a broker with or without SASL (the SASL APIs exist only with it). */
export function apiTable(sasl: boolean): Map<number, Api> {
  return new Map(ALL_APIS.filter((a) => sasl || !SASL_KEYS.has(a.key)).map((a) => [a.key, a]));
}

/** What ApiVersions lists for `table`. */
export function apiRanges(table: Map<number, Api>): ApiRange[] {
  return [...table.values()].map((a) => ({
    apiKey: a.key,
    minVersion: a.advertisedMin,
    maxVersion: a.advertisedMax,
  }));
}
