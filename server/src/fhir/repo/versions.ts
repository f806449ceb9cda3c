/** Versions of resources: as stored (stamped with id and meta) and as the rows that hold them. */
import type { Resource } from '@medplum/fhirtypes';
import { extractIndexRows } from '../search/extract.ts';
import type { VersionRow } from './write-sql.ts';

/** A stored version as read from the database: the served JSON plus its bookkeeping. */
export interface StoredVersion {
  type: string;
  id: string;
  version: number;
  lastUpdated: Date;
  deleted: boolean;
  method?: string;
  /** JSON text of the version; null for a deletion. */
  content: string | null;
}

export interface WriteResult {
  resource: Resource;
  stored: StoredVersion;
  /** True when this write created the resource. */
  created: boolean;
}

/** The resource as stored: id and meta (versionId, lastUpdated) set by the server, listed first. */
export function stamp(resource: Resource, id: string, version: number, lastUpdated: string): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  return { resourceType, id, meta: { ...meta, versionId: String(version), lastUpdated }, ...rest } as Resource;
}

/** The row that stores a stamped (and validated) resource, with its index rows. */
export function versionRow(
  stamped: Resource, version: number, lastUpdated: string, method: VersionRow['method'], replaces: boolean,
  author: string | null, content = JSON.stringify(stamped),
): VersionRow {
  return { type: stamped.resourceType, id: stamped.id as string, version, lastUpdated, deleted: false, method, content, replaces, index: extractIndexRows(stamped), author };
}
