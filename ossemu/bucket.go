package ossemu

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// emulatorOwner is the owner OSS reports for the bucket and its objects.
var emulatorOwner = xmlOwner{ID: "ossemu", DisplayName: "ossemu"}

type xmlOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// bucketCreated is when the bucket was created: the first time an emulator
// used dir, kept in dir/bucket.json.
func bucketCreated(dir string, now time.Time) (time.Time, error) {
	p := filepath.Join(dir, "bucket.json")
	var b struct {
		Created time.Time `json:"created"`
	}
	data, err := os.ReadFile(p)
	if err == nil && json.Unmarshal(data, &b) == nil && !b.Created.IsZero() {
		return b.Created, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, err
	}
	b.Created = now.UTC().Truncate(time.Second)
	data, _ = json.Marshal(b)
	return b.Created, os.WriteFile(p, data, 0o644)
}

// getBucketInfo answers GET /?bucketInfo with the fields OSS sends.
func (e *Emulator) getBucketInfo(w http.ResponseWriter, r *http.Request) *ossError {
	acl := "private"
	if e.cfg.PublicRead {
		acl = "public-read"
	}
	type sse struct {
		SSEAlgorithm string `xml:"SSEAlgorithm"`
	}
	type bucket struct {
		AccessMonitor      string   `xml:"AccessMonitor"`
		CreationDate       string   `xml:"CreationDate"`
		ExtranetEndpoint   string   `xml:"ExtranetEndpoint"`
		IntranetEndpoint   string   `xml:"IntranetEndpoint"`
		Location           string   `xml:"Location"`
		StorageClass       string   `xml:"StorageClass"`
		TransferAccel      string   `xml:"TransferAcceleration"`
		CrossRegionRepl    string   `xml:"CrossRegionReplication"`
		Name               string   `xml:"Name"`
		ResourceGroupID    string   `xml:"ResourceGroupId"`
		Owner              xmlOwner `xml:"Owner"`
		ACL                string   `xml:"AccessControlList>Grant"`
		DataRedundancyType string   `xml:"DataRedundancyType"`
		SSE                sse      `xml:"ServerSideEncryptionRule"`
		BlockPublicAccess  bool     `xml:"BlockPublicAccess"`
	}
	return writeXML(w, r, struct {
		XMLName xml.Name `xml:"BucketInfo"`
		Bucket  bucket   `xml:"Bucket"`
	}{Bucket: bucket{
		AccessMonitor:      "Disabled",
		CreationDate:       ossTime(e.created),
		ExtranetEndpoint:   "oss-" + e.region + ".aliyuncs.com",
		IntranetEndpoint:   "oss-" + e.region + "-internal.aliyuncs.com",
		Location:           "oss-" + e.region,
		StorageClass:       "Standard",
		TransferAccel:      "Disabled",
		CrossRegionRepl:    "Disabled",
		Name:               e.cfg.Bucket,
		Owner:              emulatorOwner,
		ACL:                acl,
		DataRedundancyType: "LRS",
		SSE:                sse{SSEAlgorithm: "None"},
	}})
}

// xmlCORS is OSS's CORSConfiguration document.
type xmlCORS struct {
	XMLName      xml.Name      `xml:"CORSConfiguration"`
	Rules        []xmlCORSRule `xml:"CORSRule"`
	ResponseVary *bool         `xml:"ResponseVary"`
}

type xmlCORSRule struct {
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int     `xml:"MaxAgeSeconds"`
}

const maxCORSBody = 64 << 10 // ten rules fit well inside

func (e *Emulator) getBucketCors(w http.ResponseWriter, r *http.Request) *ossError {
	rules, set, vary := e.cors.get()
	if !set {
		return newError(http.StatusNotFound, CodeNoSuchCORSConfig, "The CORS Configuration does not exist.")
	}
	doc := xmlCORS{ResponseVary: &vary}
	for _, rule := range rules {
		x := xmlCORSRule{AllowedOrigins: rule.AllowedOrigins, AllowedMethods: rule.AllowedMethods,
			AllowedHeaders: rule.AllowedHeaders, ExposeHeaders: rule.ExposeHeaders}
		if rule.MaxAgeSeconds > 0 {
			x.MaxAgeSeconds = &rule.MaxAgeSeconds
		}
		doc.Rules = append(doc.Rules, x)
	}
	return writeXML(w, r, doc)
}

func (e *Emulator) putBucketCors(w http.ResponseWriter, r *http.Request) *ossError {
	var doc xmlCORS
	if oerr := readXMLBody(r, maxCORSBody, &doc); oerr != nil {
		return oerr
	}
	rules := make([]CORSRule, 0, len(doc.Rules))
	for _, x := range doc.Rules {
		rule := CORSRule{AllowedOrigins: x.AllowedOrigins, AllowedMethods: x.AllowedMethods,
			AllowedHeaders: x.AllowedHeaders, ExposeHeaders: x.ExposeHeaders}
		if x.MaxAgeSeconds != nil {
			rule.MaxAgeSeconds = *x.MaxAgeSeconds
		}
		rules = append(rules, rule)
	}
	if len(rules) == 0 {
		return malformedXML()
	}
	if err := validateCORS(rules); err != nil {
		return invalidArgument("Invalid CORS configuration: " + err.Error() + ".")
	}
	e.cors.put(rules, doc.ResponseVary != nil && *doc.ResponseVary)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (e *Emulator) deleteBucketCors(w http.ResponseWriter) *ossError {
	e.cors.clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
