import { describe, expect, it } from "vitest";
import type { BlockDocument, BlockFields } from "../api/content";
import { blockRefSlug, formValues, refId, splitFields } from "./blockForm";

const bucket: BlockFields = {
  title: "S3Bucket",
  properties: {
    bucket_name: { type: "string" },
    credentials: { $ref: "#/definitions/AwsCredentials" },
    other: { anyOf: [{ $ref: "#/definitions/MinIOCredentials" }, { type: "null" }] },
    token: { type: "string", format: "password" },
    cfg: { $ref: "#/definitions/Plain" },
  },
  required: ["bucket_name", "credentials"],
  secret_fields: ["credentials.aws_secret_access_key", "token"],
  definitions: {
    AwsCredentials: { title: "AwsCredentials", block_type_slug: "aws-credentials" } as BlockFields,
    MinIOCredentials: { title: "MinIO", block_type_slug: "minio-credentials" } as BlockFields,
    Plain: { title: "Plain", type: "object" },
  },
};

describe("block forms", () => {
  it("finds block references, directly and through anyOf", () => {
    const p = bucket.properties ?? {};
    expect(blockRefSlug(p.credentials ?? {}, bucket)).toBe("aws-credentials");
    expect(blockRefSlug(p.other ?? {}, bucket)).toBe("minio-credentials");
    expect(blockRefSlug(p.cfg ?? {}, bucket)).toBeNull();
  });
  it("splits references, secrets and the rest", () => {
    const { refs, secrets, rest } = splitFields(bucket);
    expect(refs).toEqual([["credentials", "aws-credentials"], ["other", "minio-credentials"]]);
    expect(secrets).toEqual(["token"]);
    expect(Object.keys(rest.properties ?? {})).toEqual(["bucket_name", "cfg"]);
    expect(rest.required).toEqual(["bucket_name"]);
  });
  it("turns a saved document's references back into $ref values", () => {
    const doc = { data: { bucket_name: "b", credentials: { aws_access_key_id: "k" } }, block_document_references: { credentials: { block_document: { id: "c-1", name: "c", block_type: null, is_anonymous: false } } } } as unknown as BlockDocument;
    const v = formValues(doc);
    expect(refId(v.credentials)).toBe("c-1");
    expect(v.bucket_name).toBe("b");
    expect(refId("x")).toBe("");
  });
});
