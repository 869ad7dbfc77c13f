package ossclient

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestBucketInfo(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if !r.URL.Query().Has("bucketInfo") {
			t.Errorf("query %s, want bucketInfo", r.URL.RawQuery)
		}
		writeXML(w, 200, `<BucketInfo><Bucket><Name>examplebucket</Name><Location>oss-cn-hangzhou</Location>`+
			`<CreationDate>2013-07-31T10:56:21.000Z</CreationDate><ExtranetEndpoint>oss-cn-hangzhou.aliyuncs.com</ExtranetEndpoint>`+
			`<IntranetEndpoint>oss-cn-hangzhou-internal.aliyuncs.com</IntranetEndpoint>`+
			`<AccessControlList><Grant>private</Grant></AccessControlList><StorageClass>Standard</StorageClass>`+
			`<Versioning>Enabled</Versioning></Bucket></BucketInfo>`)
	})
	got, err := f.client(nil).BucketInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := BucketInfo{
		Name: "examplebucket", Location: "oss-cn-hangzhou",
		ExtranetEndpoint: "oss-cn-hangzhou.aliyuncs.com", IntranetEndpoint: "oss-cn-hangzhou-internal.aliyuncs.com",
		ACL: "private", StorageClass: "Standard", Versioning: "Enabled",
		Created: time.Date(2013, 7, 31, 10, 56, 21, 0, time.UTC),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BucketInfo = %+v, want %+v", got, want)
	}
	if r := f.requests()[0]; r.Path != "/"+testBucket+"/" {
		t.Errorf("path %s, want /%s/", r.Path, testBucket)
	}
}

func TestBucketCORS(t *testing.T) {
	rules := []CORSRule{{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"POST", "PUT"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  []string{"ETag", "x-oss-request-id"},
		MaxAgeSeconds:  600,
	}}
	var stored string
	var f *fakeOSS
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !r.URL.Query().Has("cors") {
			t.Errorf("query %s, want cors", r.URL.RawQuery)
		}
		switch {
		case r.Method == http.MethodPut:
			stored = f.requests()[n-1].Body // the fake has read it
			w.WriteHeader(200)
		case stored == "":
			writeOSSError(w, r, 404, "NoSuchCORSConfiguration", "The CORS Configuration does not exist.")
		default:
			writeXML(w, 200, stored)
		}
	})
	c := f.client(nil)
	ctx := context.Background()
	if got, err := c.BucketCORS(ctx); err != nil || got != nil {
		t.Fatalf("BucketCORS before any = %v, %v; want none and no error", got, err)
	}
	if err := c.PutBucketCORS(ctx, rules); err != nil {
		t.Fatal(err)
	}
	var sent sentCORS
	if err := xml.Unmarshal([]byte(f.requests()[1].Body), &sent); err != nil || len(sent.Rules) != 1 || sent.Rules[0].MaxAge != 600 {
		t.Errorf("PutBucketCors body %q (%v), want one rule with MaxAgeSeconds 600", f.requests()[1].Body, err)
	}
	got, err := c.BucketCORS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rules) {
		t.Errorf("BucketCORS = %+v, want %+v", got, rules)
	}

	for name, bad := range map[string][]CORSRule{
		"none":          nil,
		"eleven":        make([]CORSRule, MaxCORSRules+1),
		"no origin":     {{AllowedMethods: []string{"GET"}}},
		"bad method":    {{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}},
		"markup":        {{AllowedOrigins: []string{"<x>"}, AllowedMethods: []string{"GET"}}},
		"negative age":  {{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: -1}},
		"empty header":  {{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{""}}},
		"origin spaces": {{AllowedOrigins: []string{"https://a b"}, AllowedMethods: []string{"GET"}}},
	} {
		if err := c.PutBucketCORS(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
}

type sentCORS struct {
	Rules []struct {
		MaxAge int `xml:"MaxAgeSeconds"`
	} `xml:"CORSRule"`
}

func TestClockOffset(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		status int
	}{
		{"server ahead", time.Hour, 200},
		{"server behind, answer a 403", -20 * time.Minute, 403},
		{"in step", 0, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Date", time.Now().Add(tt.offset).UTC().Format(http.TimeFormat))
				if tt.status != 200 {
					writeOSSError(w, r, tt.status, "AccessDenied", "m")
					return
				}
				writeXML(w, 200, `<BucketInfo><Bucket><Name>examplebucket</Name></Bucket></BucketInfo>`)
			})
			got, err := f.client(nil).ClockOffset(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if d := got - tt.offset; d < -time.Second || d > time.Second {
				t.Errorf("ClockOffset = %v, want %v ± 1s", got, tt.offset)
			}
		})
	}
	t.Run("no answer", func(t *testing.T) {
		cfg := validConfig()
		cfg.Endpoint, cfg.UsePathStyle = "http://127.0.0.1:1", true
		c, _ := New(cfg)
		if _, err := c.ClockOffset(context.Background()); !errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	})
}
