package web

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedTokens remembers bearer tokens that passed every check, by their
// SHA-256, so the next request with the same token (a user's session sends
// many) is not parsed and verified again. Its expiry and not-before are
// still checked on every request, so a hit accepts exactly what a fresh
// parse would, except for one thing: a token is remembered for at most
// verifiedTokenTTL, which bounds how long a token signed with a key that
// has since left the JWKS stays accepted. Only tokens that were valid get
// in, and the number of them is bounded. Kubernetes' API server and Envoy's
// jwt_authn cache verified tokens the same way.
type verifiedTokens struct {
	shards [verifiedTokenShards]tokenShard
}

const (
	verifiedTokenShards = 16
	verifiedTokenTTL    = time.Minute
	// maxVerifiedTokens bounds the memory: an entry is about 100 bytes
	// plus the subject (at most MaxSubjectLen).
	maxVerifiedTokens = 16384
)

type tokenShard struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	user      any       // the subject, boxed once for echo-jwt's context value
	notBefore time.Time // nbf minus the leeway; zero if the token has none
	expires   time.Time // exp plus the leeway
	forget    time.Time // when the entry is dropped however long the token lives
}

func (v *verifiedTokens) shard(sum *[sha256.Size]byte) *tokenShard {
	return &v.shards[sum[0]%verifiedTokenShards]
}

// lookup returns the subject of a remembered token that is valid at now.
func (v *verifiedTokens) lookup(sum *[sha256.Size]byte, now time.Time) (any, bool) {
	s := v.shard(sum)
	s.mu.Lock()
	t, ok := s.entries[*sum]
	if ok && !now.Before(t.forget) {
		delete(s.entries, *sum)
		ok = false
	}
	s.mu.Unlock()
	if !ok || now.After(t.expires) || now.Before(t.notBefore) {
		// Out of its validity: a fresh parse gives the precise error.
		return nil, false
	}
	return t.user, true
}

// remember adds a token that passed every check.
func (v *verifiedTokens) remember(sum *[sha256.Size]byte, t verifiedToken, now time.Time) {
	t.forget = now.Add(verifiedTokenTTL)
	s := v.shard(sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[[sha256.Size]byte]verifiedToken{}
	}
	if len(s.entries) >= maxVerifiedTokens/verifiedTokenShards {
		s.evict(now)
	}
	s.entries[*sum] = t
}

// evict drops the entries past their time, and if that frees too little, an
// eighth of the rest (map order is random, so which ones is arbitrary).
func (s *tokenShard) evict(now time.Time) {
	for k, t := range s.entries {
		if !now.Before(t.forget) || now.After(t.expires) {
			delete(s.entries, k)
		}
	}
	limit := maxVerifiedTokens / verifiedTokenShards
	drop := len(s.entries) - limit + limit/8
	for k := range s.entries {
		if drop <= 0 {
			break
		}
		delete(s.entries, k)
		drop--
	}
}
