package tenancy

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Key prefixes. The Prefect CLI recognises them in its hints ("pnu_" for a
// user's key, "pnb_" for a bot's).
const (
	// UserKeyPrefix starts every key of a person.
	UserKeyPrefix = "pnu_"
	// BotKeyPrefix starts every key of a service account.
	BotKeyPrefix = "pnb_"
)

// keyBodyLen is the number of base62 characters after the prefix: 36 of
// them carry about 214 bits of randomness.
const keyBodyLen = 36

// displayLen is how much of a key is kept in clear for listings: the
// scheme plus four characters, far too little to guess the rest.
const displayLen = 8

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n uniformly random base62 characters.
func randomBase62(n int) (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(base62)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("tenancy: random: %w", err)
		}
		b.WriteByte(base62[i.Int64()])
	}
	return b.String(), nil
}

// newKey returns a fresh key secret with the given scheme prefix, its
// display prefix and its hash.
func newKey(prefix string) (secret, display string, hash []byte, err error) {
	body, err := randomBase62(keyBodyLen)
	if err != nil {
		return "", "", nil, err
	}
	secret = prefix + body
	return secret, secret[:displayLen], HashSecret(secret), nil
}

// HashSecret is the stored form of an API key or session token: SHA-256.
// The secrets are high-entropy random strings, so a slow KDF would add cost
// to every request without adding safety.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// LooksLikeKey reports whether s has the shape of a Baton API key, so that
// obviously malformed credentials are rejected without a database lookup.
func LooksLikeKey(s string) bool {
	if !strings.HasPrefix(s, UserKeyPrefix) && !strings.HasPrefix(s, BotKeyPrefix) {
		return false
	}
	body := s[len(UserKeyPrefix):]
	if len(body) != keyBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !strings.ContainsRune(base62, rune(body[i])) {
			return false
		}
	}
	return true
}

// newToken returns a random URL-safe token (session cookies).
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tenancy: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, one
// lane) keeps a sign-in near 30 ms on a small machine while making offline
// guessing memory-bound. They are encoded in every hash, so they can be
// raised later without invalidating existing passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

var errBadHash = errors.New("tenancy: malformed password hash")

// HashPassword returns the argon2id encoding of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("tenancy: random: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// CheckPassword reports whether password matches encoded (from
// HashPassword), in constant time with respect to the hash.
func CheckPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked when an e-mail is unknown, so that a sign-in takes
// as long for a missing user as for a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("baton-timing-equaliser")
	return h
})
