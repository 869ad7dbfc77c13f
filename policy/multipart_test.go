package policy

import (
	"testing"
	"time"
)

func TestPartLayout(t *testing.T) {
	tests := []struct {
		size      int64
		partSize  int64
		partCount int
	}{
		{1, DefaultPartSize, 1},
		{DefaultPartSize, DefaultPartSize, 1},
		{DefaultPartSize + 1, DefaultPartSize, 2},
		{120 << 20, DefaultPartSize, 15},
		{2 << 30, DefaultPartSize, 256},
		{DefaultPartSize * MaxParts, DefaultPartSize, MaxParts},
		{DefaultPartSize*MaxParts + 1, 9 << 20, 8889},
		{5 << 40, 525 << 20, 9987},
	}
	for _, tt := range tests {
		ps := PartSize(tt.size)
		n := PartCount(tt.size, ps)
		if ps != tt.partSize || n != tt.partCount {
			t.Errorf("size %d: part size %d, %d parts; want %d, %d", tt.size, ps, n, tt.partSize, tt.partCount)
		}
		if n > MaxParts || ps < MinPartSize || ps > MaxPartSize {
			t.Errorf("size %d: %d parts of %d break OSS's limits", tt.size, n, ps)
		}
	}
}

func TestPlanMultipart(t *testing.T) {
	is := newTestIssuer(t, func(c *IssuerConfig) { c.MaxSize = MaxUploadSize; c.AllowedTypes = []string{"video/*"} })
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	p, err := is.PlanMultipart("alice", Request{Filename: "clip.MP4", Size: 120<<20 + 5, ContentType: "Video/MP4", Vars: map[string]string{"album": "x"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.PartCount != 16 || p.PartSize != DefaultPartSize || p.ExpectedPartSize(16) != 5 || p.ExpectedPartSize(1) != DefaultPartSize {
		t.Errorf("plan %+v", p)
	}
	if p.ContentType != "video/mp4" || p.Filename != "clip.MP4" || p.Vars["album"] != "x" {
		t.Errorf("plan %+v", p)
	}
	if want := "uploads/alice/2026/12/01/"; len(p.Key) < len(want) || p.Key[:len(want)] != want {
		t.Errorf("key %q", p.Key)
	}
	for _, bad := range []Request{
		{Filename: "a.mp4", Size: MaxUploadSize + 1, ContentType: "video/mp4"},
		{Filename: "a.mp4", Size: 0, ContentType: "video/mp4"},
		{Filename: "a.exe", Size: 10, ContentType: "application/x-msdownload"},
		{Filename: "", Size: 10, ContentType: "video/mp4"},
	} {
		if _, err := is.PlanMultipart("alice", bad, now); err == nil {
			t.Errorf("PlanMultipart(%+v) accepted", bad)
		}
	}
}
