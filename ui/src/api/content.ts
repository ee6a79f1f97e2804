// Types and calls for blocks, variables and artifacts, over the one
// request function of client.ts (same base URL, headers and errors).

import { request, PAGE_LIMIT } from "./client";
import type { JsonSchema } from "./types";

export interface BlockType {
  id: string;
  created: string;
  updated: string;
  name: string;
  slug: string;
  logo_url: string | null;
  documentation_url: string | null;
  description: string | null;
  code_example: string | null;
  is_protected: boolean;
}

/** A block schema's fields: a JSON Schema plus Prefect's block extras. */
export interface BlockFields extends JsonSchema {
  secret_fields?: string[];
  block_type_slug?: string;
  block_schema_references?: Record<string, unknown>;
}

export interface BlockSchema {
  id: string;
  created: string;
  checksum: string;
  fields: BlockFields;
  block_type_id: string;
  block_type: BlockType | null;
  capabilities: string[];
  version: string;
}

export interface BlockDocumentRef {
  block_document: { id: string; name: string | null; block_type: BlockType | null; is_anonymous: boolean };
}

export interface BlockDocument {
  id: string;
  created: string;
  updated: string;
  name: string | null;
  data: Record<string, unknown>;
  block_schema_id: string;
  block_schema: BlockSchema | null;
  block_type_id: string;
  block_type_name: string | null;
  block_type: BlockType | null;
  block_document_references: Record<string, BlockDocumentRef>;
  is_anonymous: boolean;
}

export interface Variable {
  id: string;
  created: string;
  updated: string;
  name: string;
  value: unknown;
  tags: string[];
}

export interface Artifact {
  id: string;
  created: string;
  updated: string;
  key: string | null;
  type: string | null;
  description: string | null;
  data: unknown;
  metadata_: Record<string, string> | null;
  flow_run_id: string | null;
  task_run_id: string | null;
}

/** The latest artifact of a key (latest_id is that artifact). */
export interface ArtifactCollection extends Omit<Artifact, "key"> {
  key: string;
  latest_id: string;
}

export interface ArtifactFilter {
  key?: { any_?: string[]; like_?: string; exists_?: boolean };
  flow_run_id?: { any_?: string[] };
  task_run_id?: { any_?: string[] };
  type?: { any_?: string[]; not_any_?: string[] };
}

const enc = encodeURIComponent;

export const contentApi = {
  blockTypes: (signal?: AbortSignal) => request<BlockType[]>("POST", "/block_types/filter", { limit: PAGE_LIMIT }, signal),
  blockType: (slug: string, signal?: AbortSignal) => request<BlockType>("GET", `/block_types/slug/${enc(slug)}`, undefined, signal),
  /** The newest schema of a block type (what a new document is created against). */
  latestSchema: async (typeId: string, signal?: AbortSignal) => {
    const list = await request<BlockSchema[]>("POST", "/block_schemas/filter", { block_schemas: { block_type_id: { any_: [typeId] } }, limit: 1 }, signal);
    return list[0] ?? null;
  },
  blockDocuments: (body: { block_types?: { slug?: { any_: string[] } }; block_documents?: { name?: { like_?: string } }; limit?: number; offset?: number; sort?: string }, signal?: AbortSignal) =>
    request<BlockDocument[]>("POST", "/block_documents/filter", { limit: PAGE_LIMIT, sort: "BLOCK_TYPE_AND_NAME_ASC", ...body }, signal),
  blockDocumentsOfType: (slug: string, signal?: AbortSignal) => request<BlockDocument[]>("GET", `/block_types/slug/${enc(slug)}/block_documents`, undefined, signal),
  blockDocument: (id: string, signal?: AbortSignal) => request<BlockDocument>("GET", `/block_documents/${enc(id)}`, undefined, signal),
  createBlockDocument: (body: { name: string; block_type_id: string; block_schema_id: string; data: Record<string, unknown> }) =>
    request<BlockDocument>("POST", "/block_documents/", body),
  /** Replaces the data (obfuscated secrets posted back keep their stored value). */
  updateBlockDocument: (id: string, body: { block_schema_id?: string; data: Record<string, unknown> }) =>
    request<undefined>("PATCH", `/block_documents/${enc(id)}`, { ...body, merge_existing_data: false }),
  deleteBlockDocument: (id: string) => request<undefined>("DELETE", `/block_documents/${enc(id)}`),

  variables: (body: { variables?: { name?: { like_?: string } }; sort?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<Variable[]>("POST", "/variables/filter", { limit: PAGE_LIMIT, ...body }, signal),
  createVariable: (body: { name: string; value: unknown; tags: string[] }) => request<Variable>("POST", "/variables/", body),
  updateVariable: (id: string, body: { name?: string; value?: unknown; tags?: string[] }) => request<undefined>("PATCH", `/variables/${enc(id)}`, body),
  deleteVariable: (id: string) => request<undefined>("DELETE", `/variables/${enc(id)}`),

  artifacts: (body: { artifacts?: ArtifactFilter; sort?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<Artifact[]>("POST", "/artifacts/filter", { limit: PAGE_LIMIT, sort: "CREATED_DESC", ...body }, signal),
  artifactCollections: (body: { artifacts?: ArtifactFilter; sort?: string; limit?: number }, signal?: AbortSignal) =>
    request<ArtifactCollection[]>("POST", "/artifacts/latest/filter", { limit: PAGE_LIMIT, sort: "UPDATED_DESC", ...body }, signal),
  artifact: (id: string, signal?: AbortSignal) => request<Artifact>("GET", `/artifacts/${enc(id)}`, undefined, signal),
  deleteArtifact: (id: string) => request<undefined>("DELETE", `/artifacts/${enc(id)}`),
};
