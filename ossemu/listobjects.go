package ossemu

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

const (
	defaultMaxKeys = 100  // OSS's default page
	maxMaxKeys     = 1000 // OSS's largest page
)

type xmlObject struct {
	Key          string    `xml:"Key"`
	LastModified string    `xml:"LastModified"`
	ETag         string    `xml:"ETag"`
	Type         string    `xml:"Type"`
	Size         int64     `xml:"Size"`
	StorageClass string    `xml:"StorageClass"`
	Owner        *xmlOwner `xml:"Owner,omitempty"`
}

type xmlPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listV2Result struct {
	XMLName               xml.Name    `xml:"ListBucketResult"`
	Name                  string      `xml:"Name"`
	Prefix                string      `xml:"Prefix"`
	StartAfter            *string     `xml:"StartAfter,omitempty"`
	ContinuationToken     *string     `xml:"ContinuationToken,omitempty"`
	MaxKeys               int         `xml:"MaxKeys"`
	Delimiter             string      `xml:"Delimiter"`
	EncodingType          *string     `xml:"EncodingType,omitempty"`
	IsTruncated           bool        `xml:"IsTruncated"`
	NextContinuationToken *string     `xml:"NextContinuationToken,omitempty"`
	KeyCount              int         `xml:"KeyCount"`
	Contents              []xmlObject `xml:"Contents"`
	CommonPrefixes        []xmlPrefix `xml:"CommonPrefixes"`
}

// parseBounded reads an optional integer query parameter within [lo, hi].
func parseBounded(q map[string]string, name string, def, lo, hi int) (int, *ossError) {
	v, ok := q[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalidArgument(name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + ", not " + quote(v) + ".")
	}
	return n, nil
}

// listObjectsV2 answers GET /?list-type=2: keys in byte order, with prefix,
// delimiter, start-after, max-keys and continuation-token paging.
func (e *Emulator) listObjectsV2(w http.ResponseWriter, r *http.Request, q map[string]string) *ossError {
	enc, oerr := newKeyEncoder(q)
	if oerr != nil {
		return oerr
	}
	maxKeys, oerr := parseBounded(q, "max-keys", defaultMaxKeys, 1, maxMaxKeys)
	if oerr != nil {
		return oerr
	}
	prefix, delim := q["prefix"], q["delimiter"]
	if len(prefix) > maxKeyLen || len(delim) > maxKeyLen || len(q["start-after"]) > maxKeyLen {
		return invalidArgument("prefix, delimiter and start-after are at most 1023 bytes.")
	}
	// Everything up to and including after has been listed already.
	after := q["start-after"]
	token, hasToken := q["continuation-token"]
	if hasToken {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(raw) > maxKeyLen {
			return invalidArgument("The continuation-token is not one this bucket issued.")
		}
		after = string(raw)
	}
	objs, err := e.store.list(prefix)
	if err != nil {
		e.log.Error("ossemu: listing objects failed", "err", err)
		return internalError("Listing the objects failed.")
	}
	res := listV2Result{
		Name: e.cfg.Bucket, Prefix: enc.enc(prefix), MaxKeys: maxKeys, Delimiter: enc.enc(delim),
		EncodingType: enc.encodingType(),
	}
	if v, ok := q["start-after"]; ok {
		res.StartAfter = enc.encPtr(&v)
	}
	if hasToken {
		res.ContinuationToken = enc.encPtr(&token)
	}
	var owner *xmlOwner
	if q["fetch-owner"] == "true" {
		owner = &emulatorOwner
	}
	last := ""
	for _, m := range objs {
		if m.Key <= after {
			continue
		}
		item, isPrefix := m.Key, false
		if delim != "" {
			if i := strings.Index(m.Key[len(prefix):], delim); i >= 0 {
				item, isPrefix = m.Key[:len(prefix)+i+len(delim)], true
			}
		}
		// The keys under a common prefix already listed (on this page, or
		// as the token of the last one) are that prefix again.
		if item == last || item == after {
			continue
		}
		if res.KeyCount == maxKeys {
			res.IsTruncated = true
			next := base64.RawURLEncoding.EncodeToString([]byte(last))
			res.NextContinuationToken = enc.encPtr(&next)
			break
		}
		if isPrefix {
			res.CommonPrefixes = append(res.CommonPrefixes, xmlPrefix{Prefix: enc.enc(item)})
		} else {
			res.Contents = append(res.Contents, xmlObject{
				Key: enc.enc(m.Key), LastModified: ossTime(m.LastModified), ETag: `"` + m.ETag + `"`,
				Type: m.objectType(), Size: m.Size, StorageClass: "Standard", Owner: owner,
			})
		}
		res.KeyCount++
		last = item
	}
	return writeXML(w, r, res)
}

// deleteObject answers DELETE /{key}: 204 whether or not the key existed,
// as OSS does.
func (e *Emulator) deleteObject(w http.ResponseWriter, key string) *ossError {
	if err := e.store.remove(key); err != nil {
		e.log.Error("ossemu: deleting object failed", "key", key, "err", err)
		return internalError("Deleting the object failed.")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
