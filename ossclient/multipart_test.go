package ossclient

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestInitiateMultipartRequest(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeXML(w, 200, `<InitiateMultipartUploadResult><Bucket>examplebucket</Bucket><Key>big/v.mp4</Key>`+
			`<UploadId>0004B9894A22E5B1888A1E29F823ABCD</UploadId></InitiateMultipartUploadResult>`)
	})
	c := f.client(nil)
	id, err := c.InitiateMultipart(context.Background(), "big/v.mp4", InitiateOptions{ContentType: "video/mp4", ForbidOverwrite: true})
	if err != nil || id != "0004B9894A22E5B1888A1E29F823ABCD" {
		t.Fatalf("InitiateMultipart = %q, %v", id, err)
	}
	r := f.requests()[0]
	q, _ := url.ParseQuery(r.Query)
	if r.Method != http.MethodPost || r.Path != "/"+testBucket+"/big/v.mp4" || !q.Has("uploads") {
		t.Errorf("request %s %s?%s, want POST /%s/big/v.mp4?uploads", r.Method, r.Path, r.Query, testBucket)
	}
	if r.Header.Get("Content-Type") != "video/mp4" || r.Header.Get("x-oss-forbid-overwrite") != "true" {
		t.Errorf("headers %v, want Content-Type video/mp4 and x-oss-forbid-overwrite", r.Header)
	}

	// Without a type, none is guessed from the extension.
	if _, err := c.InitiateMultipart(context.Background(), "big/v.mp4", InitiateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := f.requests()[1]; r.Header.Get("Content-Type") != "" || r.Header.Get("x-oss-forbid-overwrite") != "" {
		t.Errorf("headers %v, want no Content-Type and no x-oss-forbid-overwrite", r.Header)
	}
}

func TestListPartsPages(t *testing.T) {
	// Five parts, two a page: three requests, markers 0, 2, 4.
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		marker, _ := strconv.Atoi(r.URL.Query().Get("part-number-marker"))
		var nums []int
		for n := marker + 1; n <= min(marker+2, 5); n++ {
			nums = append(nums, n)
		}
		writeXML(w, 200, partsXML(marker+2 < 5, marker+2, nums...))
	})
	parts, err := f.client(nil).ListParts(context.Background(), "k", "u")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range parts {
		got = append(got, p.Number)
		if p.ETag != fmt.Sprintf("ETAG%04d", p.Number) || p.Size != int64(100*1024+p.Number) || p.LastModified.IsZero() {
			t.Errorf("part %+v: want ETag without quotes, size and time", p)
		}
	}
	if !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Errorf("parts %v, want 1..5", got)
	}
	var markers []string
	for _, r := range f.requests() {
		q, _ := url.ParseQuery(r.Query)
		markers = append(markers, q.Get("part-number-marker"))
		if q.Get("max-parts") != "1000" || q.Get("uploadId") != "u" {
			t.Errorf("query %s, want max-parts=1000 and uploadId=u", r.Query)
		}
	}
	if !slices.Equal(markers, []string{"", "2", "4"}) {
		t.Errorf("markers %q, want none, 2, 4", markers)
	}
}

func TestListsStopOnBadAnswers(t *testing.T) {
	tests := []struct {
		name      string
		handle    func(w http.ResponseWriter, r *http.Request, n int)
		uploads   bool
		wantCalls int
	}{
		{"parts marker does not advance", func(w http.ResponseWriter, r *http.Request, _ int) {
			writeXML(w, 200, partsXML(true, 0, 1))
		}, false, 1},
		{"truncated page without parts", func(w http.ResponseWriter, r *http.Request, n int) {
			writeXML(w, 200, partsXML(true, n+1))
		}, false, 1},
		{"endless parts pages", func(w http.ResponseWriter, r *http.Request, n int) {
			writeXML(w, 200, partsXML(true, n, n))
		}, false, maxListPages},
		{"more parts than OSS allows", func(w http.ResponseWriter, r *http.Request, n int) {
			nums := make([]int, 1000)
			for i := range nums {
				nums[i] = (n-1)*1000 + i + 1
			}
			writeXML(w, 200, partsXML(true, n*1000, nums...))
		}, false, MaxParts/1000 + 1},
		{"uploads marker does not advance", func(w http.ResponseWriter, r *http.Request, _ int) {
			writeXML(w, 200, uploadsXML(true, "a", "1", "a"))
		}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handle)
			c := f.client(nil)
			var err error
			if tt.uploads {
				_, err = c.ListMultipartUploads(context.Background(), "", 0)
			} else {
				_, err = c.ListParts(context.Background(), "k", "u")
			}
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "inconsistent answer") {
				t.Errorf("err = %v, want ErrUnavailable: inconsistent answer", err)
			}
			if got := f.count(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
		})
	}
}

// uploadsXML lists keys, each with upload id "id-"+key.
func uploadsXML(truncated bool, nextKey, nextID string, keys ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<ListMultipartUploadsResult><Bucket>%s</Bucket><NextKeyMarker>%s</NextKeyMarker>"+
		"<NextUploadIdMarker>%s</NextUploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>%t</IsTruncated>",
		testBucket, nextKey, nextID, truncated)
	for _, k := range keys {
		fmt.Fprintf(&b, "<Upload><Key>%s</Key><UploadId>id-%s</UploadId><Initiated>2026-11-30T04:18:23.000Z</Initiated></Upload>", k, k)
	}
	b.WriteString("</ListMultipartUploadsResult>")
	return b.String()
}

func TestListMultipartUploadsPagesAndMax(t *testing.T) {
	// 2500 uploads under tmp/, served in pages of what was asked.
	all := make([]string, 2500)
	for i := range all {
		all[i] = fmt.Sprintf("tmp/%05d", i)
	}
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		q := r.URL.Query()
		start := 0
		if m := q.Get("key-marker"); m != "" {
			start = slices.Index(all, m) + 1
		}
		n, _ := strconv.Atoi(q.Get("max-uploads"))
		end := min(start+n, len(all))
		page := all[start:end]
		writeXML(w, 200, uploadsXML(end < len(all), page[len(page)-1], "id-"+page[len(page)-1], page...))
	})
	c := f.client(nil)
	ups, err := c.ListMultipartUploads(context.Background(), "tmp/", 1200)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1200 || ups[0].Key != "tmp/00000" || ups[1199].Key != "tmp/01199" {
		t.Fatalf("got %d uploads (%v … %v), want tmp/00000 … tmp/01199", len(ups), ups[0], ups[len(ups)-1])
	}
	if ups[5].UploadID != "id-tmp/00005" || !ups[5].Initiated.Equal(time.Date(2026, 11, 30, 4, 18, 23, 0, time.UTC)) {
		t.Errorf("upload %+v: want its id and time", ups[5])
	}
	var asked []string
	for _, r := range f.requests() {
		q, _ := url.ParseQuery(r.Query)
		asked = append(asked, q.Get("max-uploads")+"@"+q.Get("key-marker"))
		if q.Get("prefix") != "tmp/" || !q.Has("uploads") {
			t.Errorf("query %s, want uploads and prefix=tmp/", r.Query)
		}
	}
	if !slices.Equal(asked, []string{"1000@", "200@tmp/00999"}) {
		t.Errorf("pages asked %q, want 1000 then 200 after tmp/00999", asked)
	}

	for _, bad := range []int{MaxListedUploads + 1} {
		if _, err := c.ListMultipartUploads(context.Background(), "", bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("max %d: err = %v, want ErrInvalidArgument", bad, err)
		}
	}
	if _, err := c.ListMultipartUploads(context.Background(), strings.Repeat("p", MaxKeyLen+1), 10); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("long prefix: err = %v, want ErrInvalidArgument", err)
	}
}

func TestCompleteMultipart(t *testing.T) {
	callback := base64.StdEncoding.EncodeToString([]byte(`{"callbackUrl":"https://ossgate.example.com/api/uploads/callback","callbackBody":"{\"etag\":${etag}}"}`))
	callbackVar := base64.StdEncoding.EncodeToString([]byte(`{"x:caption":"hi"}`))
	parts := []Part{{Number: 1, ETag: "AAA"}, {Number: 2, ETag: `"BBB"`}, {Number: 5, ETag: "CCC"}}
	tests := []struct {
		name       string
		opts       CompleteOptions
		handle     func(w http.ResponseWriter, r *http.Request, n int)
		wantErr    error
		wantReason string
		want       CompleteResult
	}{
		{"no callback", CompleteOptions{}, func(w http.ResponseWriter, r *http.Request, _ int) {
			writeXML(w, 200, `<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket><Key>k</Key>`+
				`<ETag>"D41D8CD98F00B204E9800998ECF8427E-3"</ETag></CompleteMultipartUploadResult>`)
		}, nil, "", CompleteResult{ETag: "D41D8CD98F00B204E9800998ECF8427E-3", StatusCode: 200}},
		{"json callback answer", CompleteOptions{Callback: callback, CallbackVar: callbackVar, ForbidOverwrite: true},
			func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("ETag", `"E-3"`)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"upload":{"id":7}}`))
			}, nil, "", CompleteResult{ETag: "E-3", StatusCode: 200, CallbackBody: []byte(`{"upload":{"id":7}}`)}},
		{"callback answer that is not an object", CompleteOptions{Callback: callback},
			func(w http.ResponseWriter, r *http.Request, _ int) { w.Write([]byte(`["ok"]`)) },
			nil, "", CompleteResult{StatusCode: 200, CallbackBody: []byte(`["ok"]`)}},
		{"callback failed", CompleteOptions{Callback: callback}, func(w http.ResponseWriter, r *http.Request, _ int) {
			writeOSSError(w, r, 203, "CallbackFailed", "Error status : 502.")
		}, ErrCallbackFailed, "", CompleteResult{}},
		{"callback answer too large", CompleteOptions{Callback: callback}, func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Write([]byte(strings.Repeat("x", MaxCallbackBody+1)))
		}, ErrUnavailable, "callback answer too large", CompleteResult{}},
		{"key taken", CompleteOptions{ForbidOverwrite: true}, func(w http.ResponseWriter, r *http.Request, _ int) {
			writeOSSError(w, r, 409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
		}, ErrAlreadyExists, "", CompleteResult{}},
		{"parts refused", CompleteOptions{}, func(w http.ResponseWriter, r *http.Request, _ int) {
			writeOSSError(w, r, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.")
		}, ErrInvalidPart, "", CompleteResult{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handle)
			got, err := f.client(nil).CompleteMultipart(context.Background(), "big/v.mp4", "UP1", parts, tt.opts)
			if tt.wantErr != nil {
				var e *Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &e) || e.Reason != tt.wantReason {
					t.Fatalf("err = %v, want %v (reason %q)", err, tt.wantErr, tt.wantReason)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got.ETag != tt.want.ETag || got.StatusCode != tt.want.StatusCode || string(got.CallbackBody) != string(tt.want.CallbackBody) {
				t.Errorf("result %+v, want %+v", got, tt.want)
			}
			if f.count() != 1 {
				t.Fatalf("%d requests, want 1", f.count())
			}
			checkCompleteRequest(t, f.requests()[0], tt.opts)
		})
	}
}

func checkCompleteRequest(t *testing.T, r seenRequest, o CompleteOptions) {
	t.Helper()
	q, _ := url.ParseQuery(r.Query)
	if r.Method != http.MethodPost || q.Get("uploadId") != "UP1" {
		t.Errorf("%s ?%s, want POST ?uploadId=UP1", r.Method, r.Query)
	}
	var body struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	want := `[{1 "AAA"} {2 "BBB"} {5 "CCC"}]`
	if got := fmt.Sprint(body.Parts); got != want {
		t.Errorf("parts sent %s, want %s", got, want)
	}
	for header, value := range map[string]string{"x-oss-callback": o.Callback, "x-oss-callback-var": o.CallbackVar} {
		if got := r.Header.Get(header); got != value {
			t.Errorf("%s = %q, want %q", header, got, value)
		}
	}
	if got := r.Header.Get("x-oss-forbid-overwrite"); (got == "true") != o.ForbidOverwrite {
		t.Errorf("x-oss-forbid-overwrite = %q, want it iff ForbidOverwrite", got)
	}
}

func TestCompleteRefusals(t *testing.T) {
	cb := base64.StdEncoding.EncodeToString([]byte(`{"callbackUrl":"https://x/"}`))
	one := []Part{{Number: 1, ETag: "e"}}
	tests := []struct {
		name  string
		parts []Part
		opts  CompleteOptions
	}{
		{"no parts", nil, CompleteOptions{}},
		{"too many parts", make([]Part, MaxParts+1), CompleteOptions{}},
		{"part 0", []Part{{Number: 0, ETag: "e"}}, CompleteOptions{}},
		{"part 10001", []Part{{Number: MaxParts + 1, ETag: "e"}}, CompleteOptions{}},
		{"duplicate", []Part{{Number: 1, ETag: "e"}, {Number: 1, ETag: "e"}}, CompleteOptions{}},
		{"decreasing", []Part{{Number: 2, ETag: "e"}, {Number: 1, ETag: "e"}}, CompleteOptions{}},
		{"empty etag", []Part{{Number: 1, ETag: `""`}}, CompleteOptions{}},
		{"etag with markup", []Part{{Number: 1, ETag: "a</ETag><x>"}}, CompleteOptions{}},
		{"callback not base64", one, CompleteOptions{Callback: "{not base64}"}},
		{"callback not an object", one, CompleteOptions{Callback: base64.StdEncoding.EncodeToString([]byte(`"x"`))}},
		{"callback too long", one, CompleteOptions{Callback: base64.StdEncoding.EncodeToString([]byte(`{"a":"` + strings.Repeat("a", MaxCallback) + `"}`))}},
		{"callback var without callback", one, CompleteOptions{CallbackVar: cb}},
		{"callback var too long", one, CompleteOptions{Callback: cb,
			CallbackVar: base64.StdEncoding.EncodeToString([]byte(`{"x:a":"` + strings.Repeat("a", MaxCallbackVar) + `"}`))}},
	}
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { t.Error("a refused completion was sent") })
	c := f.client(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CompleteMultipart(context.Background(), "k", "u", tt.parts, tt.opts)
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestAbortAndDeleteRequests(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 2 {
			writeOSSError(w, r, 404, "NoSuchUpload", "The specified upload does not exist.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := f.client(nil)
	if err := c.AbortMultipart(context.Background(), "k", "UP1"); err != nil {
		t.Fatal(err)
	}
	if err := c.AbortMultipart(context.Background(), "k", "UP1"); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("second abort: err = %v, want ErrNoSuchUpload", err)
	}
	if err := c.DeleteObject(context.Background(), "a b/c.txt"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if r := reqs[0]; r.Method != http.MethodDelete || r.Query != "uploadId=UP1" {
		t.Errorf("abort sent %s ?%s, want DELETE ?uploadId=UP1", r.Method, r.Query)
	}
	if r := reqs[2]; r.Method != http.MethodDelete || r.Path != "/"+testBucket+"/a b/c.txt" || r.Query != "" {
		t.Errorf("delete sent %s %s?%s, want DELETE /%s/a b/c.txt", r.Method, r.Path, r.Query, testBucket)
	}
}
