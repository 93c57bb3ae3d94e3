// The API's response types as the CLI sees them (the server's schemas, src/api/schemas.ts).
export type {
  FailoverRelationship,
  Lease,
  RelationshipSummary,
  ReplicateResult,
  Scope,
  ScopeStatistics,
  Status,
  WritePreview,
} from '../api/schemas.js';

export interface LeaseList {
  items: import('../api/schemas.js').Lease[];
  total: number;
  nextCursor: string | null;
}

export interface StatisticsList {
  items: import('../api/schemas.js').ScopeStatistics[];
  total: import('../api/schemas.js').ScopeStatistics;
}
