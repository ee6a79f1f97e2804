package api

import (
	"net/http"
	"regexp"

	"github.com/batonhq/baton/internal/model"
)

// Prefect's rules for artifacts: a key of lowercase letters, digits and
// dashes (ArtifactKey), and metadata values cut to 500 characters plus
// "..." (validate_max_metadata_length).
const maxArtifactMetadata = 500

var artifactKeyRe = regexp.MustCompile(`^[a-z0-9-]*$`)

func artifactRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		op(wsWrite, "POST", "/artifacts", "Artifacts", "Create an artifact", 201, func(c *call, b *model.ArtifactCreate) (model.Artifact, error) {
			if b.Key != nil && !artifactKeyRe.MatchString(*b.Key) {
				return model.Artifact{}, errorf(http.StatusUnprocessableEntity, "field \"key\": Artifact key must only contain lowercase letters, numbers, and dashes.")
			}
			b.Metadata = truncateMetadata(b.Metadata)
			return c.srv.cfg.Store.ArtifactCreate(c.ctx, c.ws, *b)
		}),
		op(wsRead, "GET", "/artifacts/{id}", "Artifacts", "Read an artifact", 200, func(c *call, _ *noBody) (model.Artifact, error) {
			aid := c.id("id")
			return c.srv.cfg.Store.ArtifactGet(c.ctx, c.ws, aid)
		}, id),
		op(wsRead, "GET", "/artifacts/{key}/latest", "Artifacts", "Read the latest artifact of a key", 200, func(c *call, _ *noBody) (model.ArtifactCollection, error) {
			return c.srv.cfg.Store.ArtifactLatest(c.ctx, c.ws, c.r.PathValue("key"))
		}, param{name: "key", in: "path", typ: "string", required: true}),
		optionalBody(op(wsRead, "POST", "/artifacts/filter", "Artifacts", "Query artifacts", 200, func(c *call, q *model.ArtifactQuery) ([]model.Artifact, error) {
			if err := checkSortWindow(q.Sort, model.ArtifactSorts, &q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return c.srv.cfg.Store.ArtifactList(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/artifacts/latest/filter", "Artifacts", "Query the latest artifact of each key", 200, func(c *call, q *model.ArtifactQuery) ([]model.ArtifactCollection, error) {
			if err := checkSortWindow(q.Sort, model.ArtifactSorts, &q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return c.srv.cfg.Store.ArtifactLatestList(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/artifacts/count", "Artifacts", "Count artifacts", 200, func(c *call, q *model.ArtifactQuery) (int, error) {
			return c.srv.cfg.Store.ArtifactCount(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/artifacts/latest/count", "Artifacts", "Count artifact keys", 200, func(c *call, q *model.ArtifactQuery) (int, error) {
			return c.srv.cfg.Store.ArtifactLatestCount(c.ctx, c.ws, *q)
		})),
		op(wsWrite, "PATCH", "/artifacts/{id}", "Artifacts", "Update an artifact", 204, func(c *call, b *model.ArtifactUpdate) (noContent, error) {
			aid := c.id("id")
			b.Metadata = truncateMetadata(b.Metadata)
			return noContent{}, c.srv.cfg.Store.ArtifactUpdate(c.ctx, c.ws, aid, *b)
		}, id),
		op(wsWrite, "DELETE", "/artifacts/{id}", "Artifacts", "Delete an artifact", 204, func(c *call, _ *noBody) (noContent, error) {
			aid := c.id("id")
			return noContent{}, c.srv.cfg.Store.ArtifactDelete(c.ctx, c.ws, aid)
		}, id),
	}
}

// truncateMetadata cuts long metadata values as Prefect does (it keeps the
// artifact, it does not refuse it).
func truncateMetadata(m map[string]string) map[string]string {
	for k, v := range m {
		if r := []rune(v); len(r) > maxArtifactMetadata {
			m[k] = string(r[:maxArtifactMetadata]) + "..."
		}
	}
	return m
}
