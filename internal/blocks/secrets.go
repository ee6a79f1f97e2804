package blocks

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// Block document data is sealed with AES-256-GCM (the standard library's)
// before it reaches the store. The sealed form is
//
//	"bk1" | key id (8 bytes) | nonce (12 bytes) | ciphertext+tag
//
// and the additional data is the workspace id followed by the document id,
// so a sealed value copied into another workspace or onto another document
// does not open. The key id (the first 8 bytes of SHA-256 of the key)
// tells which key of the keyring sealed a value, so a rotation that stopped
// half way still reads.

const (
	sealPrefix = "bk1"
	keyIDLen   = 8
	// KeyFileName is the key file Baton creates in its home directory.
	KeyFileName = "secrets.key"
	// nextKeySuffix marks the key a rotation is moving to.
	nextKeySuffix = ".next"
)

// ErrSealed is returned when sealed data cannot be opened (wrong key,
// tampered data, or data moved between documents or workspaces). Its text
// never contains data.
var ErrSealed = errors.New("block data cannot be decrypted with the configured key")

type aeadKey struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with any of its keys.
type Keyring struct {
	current aeadKey
	all     map[[keyIDLen]byte]aeadKey
}

func newKey(raw []byte) (aeadKey, error) {
	if len(raw) != 32 {
		return aeadKey{}, fmt.Errorf("a secrets key must be 32 bytes, got %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return aeadKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return aeadKey{}, err
	}
	sum := sha256.Sum256(raw)
	var k aeadKey
	copy(k.id[:], sum[:keyIDLen])
	k.aead = aead
	return k, nil
}

// NewKeyring builds a keyring that seals with current and also opens what
// any of older sealed.
func NewKeyring(current []byte, older ...[]byte) (*Keyring, error) {
	cur, err := newKey(current)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{current: cur, all: map[[keyIDLen]byte]aeadKey{cur.id: cur}}
	for _, o := range older {
		k, err := newKey(o)
		if err != nil {
			return nil, err
		}
		if _, ok := kr.all[k.id]; !ok {
			kr.all[k.id] = k
		}
	}
	return kr, nil
}

func additional(ws, doc model.ID) []byte {
	ad := make([]byte, 0, 32)
	ad = append(ad, ws[:]...)
	return append(ad, doc[:]...)
}

// Seal encrypts plain for document doc of workspace ws.
func (k *Keyring) Seal(ws, doc model.ID, plain []byte) ([]byte, error) {
	nonce := make([]byte, k.current.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("blocks: nonce: %w", err)
	}
	out := make([]byte, 0, len(sealPrefix)+keyIDLen+len(nonce)+len(plain)+k.current.aead.Overhead())
	out = append(out, sealPrefix...)
	out = append(out, k.current.id[:]...)
	out = append(out, nonce...)
	return k.current.aead.Seal(out, nonce, plain, additional(ws, doc)), nil
}

// Open decrypts what Seal produced for the same workspace and document.
func (k *Keyring) Open(ws, doc model.ID, sealed []byte) ([]byte, error) {
	if !bytes.HasPrefix(sealed, []byte(sealPrefix)) || len(sealed) < len(sealPrefix)+keyIDLen+12 {
		return nil, ErrSealed
	}
	rest := sealed[len(sealPrefix):]
	var id [keyIDLen]byte
	copy(id[:], rest[:keyIDLen])
	key, ok := k.all[id]
	if !ok {
		return nil, fmt.Errorf("%w (sealed with an unknown key %x)", ErrSealed, id)
	}
	rest = rest[keyIDLen:]
	ns := key.aead.NonceSize()
	if len(rest) < ns {
		return nil, ErrSealed
	}
	plain, err := key.aead.Open(nil, rest[:ns], rest[ns:], additional(ws, doc))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// Reseal opens sealed with any key of the ring and seals it again with
// the current key (for key rotation).
func (k *Keyring) Reseal(ws, doc model.ID, sealed []byte) ([]byte, error) {
	plain, err := k.Open(ws, doc, sealed)
	if err != nil {
		return nil, err
	}
	return k.Seal(ws, doc, plain)
}

// KeySource says where the secrets key comes from: an operator-supplied
// key (Key, base64) or key file (KeyFile), or else the key file in Home,
// created on first start.
type KeySource struct {
	// Key is a base64-encoded 32-byte key (BATON_SECRETS_KEY).
	Key string
	// KeyFile is a file holding such a key (BATON_SECRETS_KEY_FILE).
	KeyFile string
	// Home is Baton's home directory; its secrets.key is used (and created
	// with mode 0600) when neither Key nor KeyFile is set.
	Home string
}

// Describe says where the key comes from, for logs (never the key).
func (s KeySource) Describe() string {
	switch {
	case s.Key != "":
		return "BATON_SECRETS_KEY"
	case s.KeyFile != "":
		return s.KeyFile
	}
	return filepath.Join(s.Home, KeyFileName)
}

// DecodeKey parses a base64 (standard or URL alphabet) 32-byte key.
func DecodeKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("the secrets key must decode to 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("the secrets key is not valid base64")
}

// NewKeyText returns a fresh random key, base64-encoded.
func NewKeyText() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secrets key file %s is readable by others (mode %o); chmod 600 it", path, fi.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := DecodeKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	return k, nil
}

// writeKeyFile creates path (mode 0600, failing if it exists) with text.
func writeKeyFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadKeyring returns the keyring for src, creating Home's key file on
// first use. A pending rotation's next key (secrets.key.next) is added for
// opening, so data a rotation already resealed stays readable.
func LoadKeyring(src KeySource) (*Keyring, error) {
	var cur []byte
	var err error
	switch {
	case src.Key != "":
		if cur, err = DecodeKey(src.Key); err != nil {
			return nil, fmt.Errorf("BATON_SECRETS_KEY: %w", err)
		}
	case src.KeyFile != "":
		if cur, err = readKeyFile(src.KeyFile); err != nil {
			return nil, err
		}
	default:
		if src.Home == "" {
			return nil, errors.New("no secrets key: set BATON_SECRETS_KEY, BATON_SECRETS_KEY_FILE or a home directory")
		}
		path := filepath.Join(src.Home, KeyFileName)
		cur, err = readKeyFile(path)
		if errors.Is(err, os.ErrNotExist) {
			text, gerr := NewKeyText()
			if gerr != nil {
				return nil, gerr
			}
			if err := writeKeyFile(path, text); err != nil && !errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("create secrets key %s: %w", path, err)
			}
			cur, err = readKeyFile(path)
		}
		if err != nil {
			return nil, err
		}
		if next, nerr := readKeyFile(path + nextKeySuffix); nerr == nil {
			return NewKeyring(cur, next)
		}
	}
	return NewKeyring(cur)
}

// Rotation is the outcome of RotateKey.
type Rotation struct {
	// Resealed counts the block documents sealed again under the new key.
	Resealed int
	// TOTPResealed counts the users' two-factor secrets sealed again.
	TOTPResealed int
	// KeyFile is the key file now holding the new key ("" when the key is
	// the operator's, who must now point BATON_SECRETS_KEY or
	// BATON_SECRETS_KEY_FILE at the new one).
	KeyFile string
}

// RotateKey moves every block document and every user's two-factor (TOTP)
// secret to a new key, each kind in one transaction of the store, with the
// server stopped. With the home key file, the new
// key is first written next to it (secrets.key.next, mode 0600, synced),
// the data is resealed, and then the new key replaces the old file; a
// rotation interrupted at any point leaves every document readable (the
// keyring opens with both keys) and can simply be run again. An operator
// key (src.Key or src.KeyFile) is replaced by newKeyText, which the
// operator supplies and must then configure.
func RotateKey(ctx context.Context, st interface {
	BlockDocumentReseal(ctx context.Context, reseal func(ws, id model.ID, sealed []byte) ([]byte, error)) (int, error)
	TOTPReseal(ctx context.Context, reseal func(userID model.ID, sealed []byte) ([]byte, error)) (int, error)
}, src KeySource, newKeyText string) (Rotation, error) {
	old, err := LoadKeyring(src)
	if err != nil {
		return Rotation{}, err
	}
	operator := src.Key != "" || src.KeyFile != ""
	var nextPath string
	if operator {
		if newKeyText == "" {
			return Rotation{}, errors.New("the secrets key is supplied by the operator (BATON_SECRETS_KEY or BATON_SECRETS_KEY_FILE): give the new key with --new-key-file")
		}
	} else {
		nextPath = filepath.Join(src.Home, KeyFileName+nextKeySuffix)
		if newKeyText == "" {
			if prev, err := os.ReadFile(nextPath); err == nil {
				newKeyText = strings.TrimSpace(string(prev)) // an interrupted rotation's key
			} else if newKeyText, err = NewKeyText(); err != nil {
				return Rotation{}, err
			}
		}
	}
	raw, err := DecodeKey(newKeyText)
	if err != nil {
		return Rotation{}, fmt.Errorf("new key: %w", err)
	}
	next, err := newKey(raw)
	if err != nil {
		return Rotation{}, err
	}
	ring := &Keyring{current: next, all: map[[keyIDLen]byte]aeadKey{next.id: next}}
	for id, k := range old.all {
		ring.all[id] = k
	}
	if nextPath != "" {
		_ = os.Remove(nextPath)
		if err := writeKeyFile(nextPath, newKeyText); err != nil {
			return Rotation{}, fmt.Errorf("write %s: %w", nextPath, err)
		}
	}
	n, err := st.BlockDocumentReseal(ctx, ring.Reseal)
	if err != nil {
		return Rotation{}, err
	}
	// TOTP secrets are sealed to no workspace and to their user.
	m, err := st.TOTPReseal(ctx, func(userID model.ID, sealed []byte) ([]byte, error) {
		return ring.Reseal(model.Nil, userID, sealed)
	})
	if err != nil {
		return Rotation{}, err
	}
	out := Rotation{Resealed: n, TOTPResealed: m}
	if nextPath != "" {
		out.KeyFile = filepath.Join(src.Home, KeyFileName)
		if err := os.Rename(nextPath, out.KeyFile); err != nil {
			return out, fmt.Errorf("install the new key %s: %w", out.KeyFile, err)
		}
	}
	return out, nil
}
