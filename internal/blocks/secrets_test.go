package blocks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

func ring(t *testing.T) *Keyring {
	t.Helper()
	text, err := NewKeyText()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := DecodeKey(text)
	kr, err := NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	kr := ring(t)
	ws, doc := model.NewID(), model.NewID()
	plain := []byte(`{"value":"hunter2-is-my-password"}`)
	sealed, err := kr.Seal(ws, doc, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed data contains the plaintext")
	}
	again, _ := kr.Seal(ws, doc, plain)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same data are equal (nonce reused)")
	}
	got, err := kr.Open(ws, doc, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Bound to its workspace and document: moved data does not open.
	if _, err := kr.Open(model.NewID(), doc, sealed); !errors.Is(err, ErrSealed) {
		t.Fatalf("open in another workspace: %v", err)
	}
	if _, err := kr.Open(ws, model.NewID(), sealed); !errors.Is(err, ErrSealed) {
		t.Fatalf("open as another document: %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := kr.Open(ws, doc, tampered); !errors.Is(err, ErrSealed) {
		t.Fatalf("open tampered: %v", err)
	}
	if _, err := ring(t).Open(ws, doc, sealed); !errors.Is(err, ErrSealed) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("open with another key: %v", err)
	}
}

func TestLoadKeyringCreatesAPrivateKeyFile(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	kr, err := LoadKeyring(KeySource{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, KeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", fi.Mode().Perm())
	}
	ws, doc := model.NewID(), model.NewID()
	sealed, _ := kr.Seal(ws, doc, []byte("x"))
	again, err := LoadKeyring(KeySource{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Open(ws, doc, sealed); err != nil {
		t.Fatalf("the key did not persist: %v", err)
	}
	// A key file others can read is refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(KeySource{Home: home}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}
	// Operator keys: env text and a file; bad ones are named.
	text, _ := NewKeyText()
	if _, err := LoadKeyring(KeySource{Key: text}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(KeySource{Key: "c2hvcnQ="}); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("short key: %v", err)
	}
	if _, err := LoadKeyring(KeySource{Key: "%%%"}); err == nil || !strings.Contains(err.Error(), "BATON_SECRETS_KEY") {
		t.Fatalf("bad key: %v", err)
	}
}

// memReseal is a one-workspace stand-in for the store's reseal loops.
type memReseal struct {
	ws    model.ID
	docs  map[model.ID][]byte
	totps map[model.ID][]byte
	fail  bool
}

func (m *memReseal) TOTPReseal(_ context.Context, reseal func(userID model.ID, sealed []byte) ([]byte, error)) (int, error) {
	out := map[model.ID][]byte{}
	for id, d := range m.totps {
		n, err := reseal(id, d)
		if err != nil {
			return 0, err
		}
		out[id] = n
	}
	m.totps = out
	return len(out), nil
}

func (m *memReseal) BlockDocumentReseal(_ context.Context, reseal func(ws, id model.ID, sealed []byte) ([]byte, error)) (int, error) {
	out := map[model.ID][]byte{}
	for id, d := range m.docs {
		n, err := reseal(m.ws, id, d)
		if err != nil {
			return 0, err
		}
		out[id] = n
	}
	if m.fail {
		return 0, errors.New("crash before commit")
	}
	m.docs = out
	return len(out), nil
}

func TestRotateKey(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	src := KeySource{Home: home}
	old, err := LoadKeyring(src)
	if err != nil {
		t.Fatal(err)
	}
	oldText, _ := os.ReadFile(filepath.Join(home, KeyFileName))
	m := &memReseal{ws: model.NewID(), docs: map[model.ID][]byte{}, totps: map[model.ID][]byte{}}
	ids := []model.ID{model.NewID(), model.NewID()}
	for _, id := range ids {
		m.docs[id], _ = old.Seal(m.ws, id, []byte(`{"v":"`+id.String()+`"}`))
	}
	user := model.NewID()
	m.totps[user], _ = old.Seal(model.Nil, user, []byte("JBSWY3DPEHPK3PXP"))

	// A rotation that fails before its commit changes nothing readable.
	m.fail = true
	if _, err := RotateKey(context.Background(), m, src, ""); err == nil {
		t.Fatal("failed reseal reported success")
	}
	m.fail = false
	kr, err := LoadKeyring(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := kr.Open(m.ws, id, m.docs[id]); err != nil {
			t.Fatalf("after an interrupted rotation: %v", err)
		}
	}

	rot, err := RotateKey(context.Background(), m, src, "")
	if err != nil {
		t.Fatal(err)
	}
	if rot.Resealed != 2 || rot.TOTPResealed != 1 {
		t.Fatalf("resealed %d documents, %d TOTP secrets", rot.Resealed, rot.TOTPResealed)
	}
	newText, _ := os.ReadFile(filepath.Join(home, KeyFileName))
	if bytes.Equal(oldText, newText) {
		t.Fatal("the key file still holds the old key")
	}
	if _, err := os.Stat(filepath.Join(home, KeyFileName+nextKeySuffix)); !os.IsNotExist(err) {
		t.Fatalf("next key file left behind: %v", err)
	}
	fresh, err := LoadKeyring(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := fresh.Open(m.ws, id, m.docs[id]); err != nil {
			t.Fatalf("new key cannot open resealed data: %v", err)
		}
		if _, err := old.Open(m.ws, id, m.docs[id]); err == nil {
			t.Fatal("the old key still opens resealed data")
		}
	}

	// Two-factor secrets move to the new key too (before, users had to
	// enrol again after a rotation).
	if plain, err := fresh.Open(model.Nil, user, m.totps[user]); err != nil || string(plain) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("new key cannot open the resealed TOTP secret: %q %v", plain, err)
	}
	if _, err := old.Open(model.Nil, user, m.totps[user]); err == nil {
		t.Fatal("the old key still opens the TOTP secret")
	}

	// Operator keys need the new key given.
	text, _ := NewKeyText()
	if _, err := RotateKey(context.Background(), m, KeySource{Key: text}, ""); err == nil || !strings.Contains(err.Error(), "--new-key-file") {
		t.Fatalf("operator rotation without a new key: %v", err)
	}
}
