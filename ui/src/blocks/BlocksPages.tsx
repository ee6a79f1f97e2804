// Blocks: the saved blocks, the catalogue of block types, a block's page,
// and create/edit forms generated from the block schema.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { contentApi, type BlockDocument, type BlockSchema, type BlockType } from "../api/content";
import { Card, Empty, ErrorBox, KeyValues, Loading, Time } from "../components/common";
import { ConfirmDialog } from "../components/Dialog";
import { Markdown } from "../components/Markdown";
import { notify } from "../components/toast";
import { formValues } from "../lib/blockForm";
import { BlockForm } from "./BlockForm";

export function BlocksPage() {
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const q = useQuery({
    queryKey: ["blocks", "list", search],
    queryFn: ({ signal }) => contentApi.blockDocuments(search ? { block_documents: { name: { like_: search } } } : {}, signal),
    refetchInterval: 5000,
  });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Blocks</h1>
        <div className="actions">
          <Link className="button primary" to="/blocks/catalog">Add block</Link>
        </div>
      </header>
      <div className="toolbar">
        <input type="search" aria-label="Search blocks" placeholder="Search names" value={search}
          onChange={(e) => setParams(e.target.value ? { q: e.target.value } : {}, { replace: true })} />
      </div>
      {q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : !q.data ? <Loading /> : q.data.length === 0 ? (
        <Empty title={search ? "No block matches" : "No blocks yet"}>
          <p>Add one from the <Link to="/blocks/catalog">catalogue</Link>, or save one from Python with <code>Block.save("name")</code>.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="blocks" data-keynav>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Slug</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((d) => (
                <tr key={d.id}>
                  <td><Link to={`/blocks/block/${d.id}`}>{d.name}</Link></td>
                  <td>{d.block_type_name}</td>
                  <td><code>{d.block_type?.slug}/{d.name}</code></td>
                  <td><Time iso={d.updated} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function BlockCatalogPage() {
  const q = useQuery({ queryKey: ["block_types"], queryFn: ({ signal }) => contentApi.blockTypes(signal) });
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/blocks">Blocks</Link></nav>
      <header className="page-head">
        <h1>Block catalogue</h1>
      </header>
      {q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : !q.data ? <Loading /> : (
        <ul className="catalog" data-testid="block-catalog">
          {q.data.map((t) => (
            <li key={t.id} className="card">
              <h2 className="card-title"><Link to={`/blocks/catalog/${t.slug}/create`}>{t.name}</Link></h2>
              {t.description && <div className="muted small"><Markdown text={t.description.split("\n\n")[0] ?? ""} /></div>}
              <code className="small">{t.slug}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Field errors from a 422 such as `field "data.size": expected integer` or `field "name": ...`. */
function fieldErrors(err: unknown): { fields: Record<string, string>; general: string | null } {
  if (!(err instanceof ApiError)) return { fields: {}, general: err instanceof Error ? err.message : null };
  const m = /field "([^"]+)"/.exec(err.message);
  if (m?.[1]) return { fields: { [m[1]]: err.message }, general: null };
  if (err.status === 409) return { fields: { name: "A block of this type with this name already exists." }, general: null };
  return { fields: {}, general: err.message };
}

function useTypeAndSchema(slug: string) {
  const type = useQuery({ queryKey: ["block_types", slug], queryFn: ({ signal }) => contentApi.blockType(slug, signal) });
  const schema = useQuery({
    queryKey: ["block_schemas", "latest", type.data?.id],
    queryFn: ({ signal }) => contentApi.latestSchema(type.data?.id ?? "", signal),
    enabled: !!type.data,
  });
  return { type, schema };
}

export function BlockCreatePage() {
  const { slug = "" } = useParams();
  const { type, schema } = useTypeAndSchema(slug);
  if (type.isError) return <div className="page"><ErrorBox error={type.error} /></div>;
  if (schema.isError) return <div className="page"><ErrorBox error={schema.error} /></div>;
  if (!type.data || schema.isPending) return <div className="page"><Loading /></div>;
  if (!schema.data) return <div className="page"><Empty title={`${type.data.name} has no schema on this server`}><p>Register it with <code>prefect block register</code>.</p></Empty></div>;
  return <BlockEditor type={type.data} schema={schema.data} doc={null} />;
}

export function BlockEditPage() {
  const { id = "" } = useParams();
  const doc = useQuery({ queryKey: ["blocks", "one", id], queryFn: ({ signal }) => contentApi.blockDocument(id, signal) });
  if (doc.isError) return <div className="page"><ErrorBox error={doc.error} /></div>;
  if (!doc.data) return <div className="page"><Loading /></div>;
  const d = doc.data;
  if (!d.block_type || !d.block_schema) return <div className="page"><ErrorBox error="This block's type or schema is missing" /></div>;
  return <BlockEditor type={d.block_type} schema={d.block_schema} doc={d} />;
}

function BlockEditor({ type, schema, doc }: { type: BlockType; schema: BlockSchema; doc: BlockDocument | null }) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const [name, setName] = useState(doc?.name ?? "");
  const [values, setValues] = useState<Record<string, unknown>>(() => (doc ? formValues(doc) : {}));
  const save = useMutation({
    mutationFn: async () => {
      if (doc) {
        await contentApi.updateBlockDocument(doc.id, { block_schema_id: schema.id, data: values });
        return doc.id;
      }
      const made = await contentApi.createBlockDocument({ name, block_type_id: type.id, block_schema_id: schema.id, data: values });
      return made.id;
    },
    onSuccess: async (id) => {
      notify(doc ? "Block saved" : "Block created");
      await qc.invalidateQueries({ queryKey: ["blocks"] });
      void nav(`/blocks/block/${id}`);
    },
  });
  const errs = fieldErrors(save.error);
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/blocks">Blocks</Link> / <Link to="/blocks/catalog">Catalogue</Link></nav>
      <header className="page-head">
        <h1>{doc ? `Edit ${doc.name}` : `New ${type.name} block`}</h1>
      </header>
      <form className="form card" onSubmit={(e) => { e.preventDefault(); save.mutate(); }} data-testid="block-form">
        {!doc && (
          <div className="field">
            <label htmlFor="block-name">Block name <span className="req">*</span></label>
            <input id="block-name" value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={errs.fields.name ? true : undefined} />
            <span className="muted small">Lowercase letters, numbers and dashes; load it with <code>{type.slug}/{name || "name"}</code>.</span>
            {errs.fields.name && <span className="field-error">{errs.fields.name}</span>}
          </div>
        )}
        <BlockForm fields={schema.fields} values={values} onChange={setValues} errors={errs.fields} />
        {errs.general && <p className="form-error" role="alert">{errs.general}</p>}
        <div className="dialog-actions">
          <Link className="button" to={doc ? `/blocks/block/${doc.id}` : "/blocks/catalog"}>Cancel</Link>
          <button type="submit" className="primary" disabled={save.isPending}>{save.isPending ? "Saving…" : doc ? "Save" : "Create"}</button>
        </div>
      </form>
    </div>
  );
}

function RefLink({ doc, field }: { doc: BlockDocument; field: string }) {
  const ref = doc.block_document_references[field];
  return ref ? <Link to={`/blocks/block/${ref.block_document.id}`}>{ref.block_document.name}</Link> : null;
}

/** A value as shown on the block page (secrets arrive obfuscated from the server). */
function shown(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function BlockPage() {
  const { id = "" } = useParams();
  const nav = useNavigate();
  const qc = useQueryClient();
  const [deleting, setDeleting] = useState(false);
  const q = useQuery({ queryKey: ["blocks", "one", id], queryFn: ({ signal }) => contentApi.blockDocument(id, signal) });
  const remove = useMutation({
    mutationFn: () => contentApi.deleteBlockDocument(id),
    onSuccess: async () => {
      notify("Block deleted");
      await qc.invalidateQueries({ queryKey: ["blocks"] });
      void nav("/blocks");
    },
  });
  if (q.isError) return <div className="page"><ErrorBox error={q.error} retry={() => void q.refetch()} /></div>;
  if (!q.data) return <div className="page"><Loading /></div>;
  const d = q.data;
  const slug = d.block_type?.slug ?? "";
  const secrets = new Set((d.block_schema?.fields.secret_fields ?? []).map((f) => f.split(".")[0]));
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/blocks">Blocks</Link></nav>
      <header className="page-head">
        <h1>{d.name}</h1>
        <div className="actions">
          <Link className="button" to={`/blocks/block/${d.id}/edit`}>Edit</Link>
          <button type="button" className="danger" onClick={() => setDeleting(true)}>Delete</button>
        </div>
      </header>
      <KeyValues items={[
        ["Type", d.block_type_name ?? "—"],
        ["Slug", <code key="s">{slug}/{d.name}</code>],
        ["Capabilities", (d.block_schema?.capabilities ?? []).join(", ") || "—"],
        ["Created", <Time key="c" iso={d.created} />],
        ["Updated", <Time key="u" iso={d.updated} />],
      ]} />
      <Card title="Data">
        <div className="table-wrap">
          <table className="table" data-testid="block-data">
            <tbody>
              {Object.entries(d.data).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}{secrets.has(k) && <span className="muted small"> (secret)</span>}</th>
                  <td>
                    {k in d.block_document_references ? (
                      <RefLink doc={d} field={k} />
                    ) : (
                      <code className="truncate">{shown(v)}</code>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
      <Card title="Use it">
        <pre className="json">{`from prefect.blocks.core import Block\n\nblock = Block.load("${slug}/${d.name ?? ""}")`}</pre>
      </Card>
      <ConfirmDialog open={deleting} title={`Delete block ${d.name ?? ""}?`} body={<p>Flows that load it will fail; blocks that reference it lose the reference.</p>}
        confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={() => setDeleting(false)} />
    </div>
  );
}
