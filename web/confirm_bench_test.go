package web

import (
	"bytes"
	"context"
	"sort"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// BenchmarkConfirmHeadObject is the latency a callback gains from its
// confirmation: one HeadObject through ossclient (the official SDK, V4
// signing) to the emulator on loopback. It reports the median and p99 of
// the run too, against OSS's 5-second callback window.
func BenchmarkConfirmHeadObject(b *testing.B) {
	emu := testEmulator(b)
	bucket := clientOf(b, emu)
	sdk := oss.NewClient(oss.NewConfig().WithRegion("cn-hangzhou").WithEndpoint(emu.PublicURL()).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.AccessKeySecret)))
	const key = "uploads/alice/2026/12/01/bench.png"
	if _, err := sdk.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(testBucket), Key: oss.Ptr(key),
		ContentType: oss.Ptr("image/png"), Body: bytes.NewReader(make([]byte, 12345))}); err != nil {
		b.Fatal(err)
	}
	s := &Server{opt: Options{Bucket: bucket, Metrics: NewMetrics()}}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := s.headObject(context.Background(), key); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
