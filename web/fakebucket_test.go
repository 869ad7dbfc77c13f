package web

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ossgate/ossgate/ossclient"
)

// fakeBucket is the ossclient.Bucket of the web tests that play OSS by
// hand: it holds what the test says OSS stored. Tests of the real
// exchange use the emulator (see multipart_test.go and the root tests).
type fakeBucket struct {
	mu      sync.Mutex
	objects map[string]ossclient.ObjectInfo
	fail    error // when set, every call fails with it
	heads   int
	// mp, when set, plays the multipart calls and presigned GETs (an
	// emulator's client): objects the test describes by hand stay here.
	mp ossclient.Bucket
}

func newFakeBucket() *fakeBucket { return &fakeBucket{objects: map[string]ossclient.ObjectInfo{}} }

func (b *fakeBucket) put(key string, size int64, etag, contentType string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = ossclient.ObjectInfo{Key: key, Size: size, ETag: etag, ContentType: contentType, ObjectType: "Normal"}
}

func (b *fakeBucket) setFail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = err
}

func (b *fakeBucket) HeadObject(ctx context.Context, key string) (ossclient.ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.heads++
	if b.fail != nil {
		return ossclient.ObjectInfo{}, b.fail
	}
	o, ok := b.objects[key]
	switch {
	case !ok && b.mp != nil:
		return b.mp.HeadObject(ctx, key)
	case !ok:
		return ossclient.ObjectInfo{}, fmt.Errorf("HeadObject: %w", ossclient.ErrNotFound)
	}
	return o, nil
}

func (b *fakeBucket) DeleteObject(ctx context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	if _, ok := b.objects[key]; !ok && b.mp != nil {
		return b.mp.DeleteObject(ctx, key)
	}
	delete(b.objects, key)
	return nil
}

var errFakeUnsupported = errors.New("fakeBucket: not played by this fake; use the emulator")

func (b *fakeBucket) PresignGet(ctx context.Context, key string, o ossclient.GetOptions) (ossclient.Presigned, error) {
	if b.mp != nil {
		return b.mp.PresignGet(ctx, key, o)
	}
	return ossclient.Presigned{}, errFakeUnsupported
}

func (b *fakeBucket) InitiateMultipart(ctx context.Context, key string, o ossclient.InitiateOptions) (string, error) {
	if b.mp != nil {
		return b.mp.InitiateMultipart(ctx, key, o)
	}
	return "", errFakeUnsupported
}

func (b *fakeBucket) PresignUploadPart(ctx context.Context, key, uploadID string, part int, expires time.Duration) (ossclient.Presigned, error) {
	if b.mp != nil {
		return b.mp.PresignUploadPart(ctx, key, uploadID, part, expires)
	}
	return ossclient.Presigned{}, errFakeUnsupported
}

func (b *fakeBucket) ListParts(ctx context.Context, key, uploadID string) ([]ossclient.Part, error) {
	if b.mp != nil {
		return b.mp.ListParts(ctx, key, uploadID)
	}
	return nil, errFakeUnsupported
}

func (b *fakeBucket) CompleteMultipart(ctx context.Context, key, uploadID string, parts []ossclient.Part, o ossclient.CompleteOptions) (ossclient.CompleteResult, error) {
	if b.mp != nil {
		return b.mp.CompleteMultipart(ctx, key, uploadID, parts, o)
	}
	return ossclient.CompleteResult{}, errFakeUnsupported
}

func (b *fakeBucket) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if b.mp != nil {
		return b.mp.AbortMultipart(ctx, key, uploadID)
	}
	return errFakeUnsupported
}

func (b *fakeBucket) ListMultipartUploads(ctx context.Context, prefix string, max int) ([]ossclient.MultipartUpload, error) {
	if b.mp != nil {
		return b.mp.ListMultipartUploads(ctx, prefix, max)
	}
	return nil, errFakeUnsupported
}
