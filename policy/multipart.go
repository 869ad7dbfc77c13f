package policy

import (
	"errors"
	"time"
)

// OSS's multipart limits.
const (
	MaxParts = 10000
	// MinPartSize is the smallest part but the last OSS accepts.
	MinPartSize = 100 << 10
	// MaxPartSize is the largest part OSS accepts.
	MaxPartSize = 5 << 30
	// DefaultPartSize is the part size of a multipart upload unless that
	// would take more than MaxParts parts; clients use PartSize too.
	DefaultPartSize = 8 << 20
)

// PartSize is the size of every part but the last of a multipart upload of
// size bytes: DefaultPartSize, or for very large files the smallest whole
// number of MiB that fits the file in MaxParts parts. Clients can compute
// it themselves (ossgate.js does, for Uppy's getChunkSize); the server
// also says it.
func PartSize(size int64) int64 {
	if size <= DefaultPartSize*MaxParts {
		return DefaultPartSize
	}
	const mib = 1 << 20
	per := (size + MaxParts - 1) / MaxParts
	return (per + mib - 1) / mib * mib
}

// PartCount is how many parts of partSize a file of size bytes takes.
func PartCount(size, partSize int64) int {
	return int((size + partSize - 1) / partSize)
}

// MultipartPlan is what ossgate authorises for one multipart upload: every
// later step is checked against it.
type MultipartPlan struct {
	Key         string // server-chosen, like a POST policy's
	ContentType string // normalised
	Filename    string
	Vars        map[string]string
	Size        int64 // the exact size the completed object must have
	PartSize    int64
	PartCount   int
}

// ExpectedPartSize is the size part n (1-based) must have.
func (p *MultipartPlan) ExpectedPartSize(n int) int64 {
	if n == p.PartCount {
		return p.Size - int64(p.PartCount-1)*p.PartSize
	}
	return p.PartSize
}

// PlanMultipart applies the policy rules to req (the same as Issue: name,
// size up to MaxSize, allowed type, vars) and chooses the key and the part
// layout of a multipart upload for user at now. A request the rules refuse
// gives an *Error.
func (is *Issuer) PlanMultipart(user string, req Request, now time.Time) (*MultipartPlan, error) {
	ct, _, verr := is.check(req)
	if verr != nil {
		return nil, verr
	}
	if user == "" {
		return nil, errors.New("policy: PlanMultipart needs a user")
	}
	key, err := ObjectKey(is.cfg.KeyPrefix, user, req.Filename, now, is.cfg.Rand)
	if err != nil {
		return nil, err
	}
	ps := PartSize(req.Size)
	vars := make(map[string]string, len(req.Vars))
	for k, v := range req.Vars {
		vars[k] = v
	}
	return &MultipartPlan{
		Key:         key,
		ContentType: ct,
		Filename:    req.Filename,
		Vars:        vars,
		Size:        req.Size,
		PartSize:    ps,
		PartCount:   PartCount(req.Size, ps),
	}, nil
}

// Bucket is the bucket the Issuer signs for.
func (is *Issuer) Bucket() string { return is.cfg.Bucket }

// TTL is how long what the Issuer signs stays valid.
func (is *Issuer) TTL() time.Duration { return is.cfg.TTL }
