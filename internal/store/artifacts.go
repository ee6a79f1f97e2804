package store

import (
	"context"

	"github.com/batonhq/baton/internal/model"
)

// Artifacts stores artifacts and, for keyed ones, the collection row that
// points at the newest artifact of each key. Both are written in the same
// transaction, so the collection never points at a missing artifact.
type Artifacts interface {
	// ArtifactCreate inserts an artifact; when it has a key, the key's
	// collection row is created or moved to it.
	ArtifactCreate(ctx context.Context, ws model.ID, in model.ArtifactCreate) (model.Artifact, error)
	ArtifactGet(ctx context.Context, ws, id model.ID) (model.Artifact, error)
	// ArtifactLatest returns the collection row of key.
	ArtifactLatest(ctx context.Context, ws model.ID, key string) (model.ArtifactCollection, error)
	ArtifactList(ctx context.Context, ws model.ID, q model.ArtifactQuery) ([]model.Artifact, error)
	ArtifactCount(ctx context.Context, ws model.ID, q model.ArtifactQuery) (int, error)
	// ArtifactLatestList lists collection rows (one per key).
	ArtifactLatestList(ctx context.Context, ws model.ID, q model.ArtifactQuery) ([]model.ArtifactCollection, error)
	ArtifactLatestCount(ctx context.Context, ws model.ID, q model.ArtifactQuery) (int, error)
	// ArtifactUpdate changes data, description or metadata of an artifact
	// (and of its collection row when it is the latest of its key).
	ArtifactUpdate(ctx context.Context, ws, id model.ID, in model.ArtifactUpdate) error
	// ArtifactDelete removes an artifact; when it was the latest of its
	// key, the collection moves to the next newest one, or is removed with
	// the last artifact of the key.
	ArtifactDelete(ctx context.Context, ws, id model.ID) error
}
