package ossemu

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
)

// OSS's limits on multipart uploads.
const (
	maxPartNumber   = 10000
	maxPartSize     = 5 << 30   // 5 GiB
	minPartSize     = 100 << 10 // every part but the last
	maxCompleteBody = 2 << 20   // 10000 <Part> elements fit
	maxUploadsPage  = 1000
	maxPartsPage    = 1000
)

// multipartState serialises what changes an upload's directory: committing
// a part, completing, aborting. Bytes are streamed outside the lock.
type multipartState struct {
	mu         sync.Mutex
	completing map[string]bool // upload ids being completed
}

func noSuchUpload() *ossError {
	return newError(http.StatusNotFound, CodeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

// upload loads the upload named by the uploadId parameter, which must be one
// for key.
func (e *Emulator) upload(q map[string]string, key string) (uploadMeta, *ossError) {
	m, err := e.store.loadUpload(q["uploadId"])
	switch {
	case errors.Is(err, errNoSuchUpload):
		return m, noSuchUpload()
	case err != nil:
		e.log.Error("ossemu: reading upload failed", "err", err)
		return m, internalError("Reading the upload failed.")
	case m.Key != key:
		return m, noSuchUpload()
	}
	return m, nil
}

// initiateMultipartUpload answers POST /{key}?uploads.
func (e *Emulator) initiateMultipartUpload(w http.ResponseWriter, r *http.Request, q map[string]string, key string) *ossError {
	enc, oerr := newKeyEncoder(q)
	if oerr != nil {
		return oerr
	}
	forbid, oerr := parseForbidOverwrite(r.Header.Get("x-oss-forbid-overwrite"))
	if oerr != nil {
		return oerr
	}
	if forbid && e.store.exists(key) {
		return fileAlreadyExists()
	}
	m := uploadMeta{
		Key: key, UploadID: newUploadID(), Initiated: e.now().UTC(),
		ContentType: contentTypeFor(form{"content-type": r.Header.Get("Content-Type")}, key),
		Headers:     storedHeaders(headerForm(r.Header)),
	}
	if err := e.store.createUpload(m); err != nil {
		e.log.Error("ossemu: creating upload failed", "key", key, "err", err)
		return internalError("Creating the upload failed.")
	}
	return writeXML(w, r, struct {
		XMLName      xml.Name `xml:"InitiateMultipartUploadResult"`
		Bucket       string   `xml:"Bucket"`
		Key          string   `xml:"Key"`
		UploadID     string   `xml:"UploadId"`
		EncodingType *string  `xml:"EncodingType,omitempty"`
	}{Bucket: e.cfg.Bucket, Key: enc.enc(key), UploadID: m.UploadID, EncodingType: enc.encodingType()})
}

// uploadPart answers PUT /{key}?partNumber=N&uploadId=ID, header-signed or
// presigned: the part streams to disk, then joins the upload.
func (e *Emulator) uploadPart(w http.ResponseWriter, r *http.Request, q map[string]string, key string) *ossError {
	n, err := strconv.Atoi(q["partNumber"])
	if err != nil || n < 1 || n > maxPartNumber {
		return invalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
	}
	if _, oerr := e.upload(q, key); oerr != nil {
		return oerr
	}
	md5s := r.Header.Values("Content-MD5")
	if len(md5s) > 0 {
		if oerr := checkContentMD5(md5s[0]); oerr != nil {
			return oerr
		}
	}
	if r.ContentLength > maxPartSize {
		return newError(http.StatusBadRequest, CodeEntityTooLarge, "A part is at most 5 GiB.")
	}
	obj, oerr := e.receiveFile(r.Body, 0, maxPartSize, key, incompleteBody)
	if oerr != nil {
		return oerr
	}
	defer obj.discard()
	if len(md5s) > 0 && md5s[0] != obj.contentMD5 {
		return md5Mismatch()
	}
	if err := obj.file.Close(); err != nil {
		return internalError("Storing the part failed.")
	}
	p := partMeta{PartNumber: n, Size: obj.size, ETag: obj.etag, CRC64: obj.crc64, LastModified: e.now().UTC()}
	id := q["uploadId"]
	e.mp.mu.Lock()
	// Aborted, completed or being completed while the part streamed in.
	if _, err := e.store.loadUpload(id); err != nil || e.mp.completing[id] {
		e.mp.mu.Unlock()
		return noSuchUpload()
	}
	err = e.store.commitPart(id, p, obj.file.Name())
	e.mp.mu.Unlock()
	if err != nil {
		e.log.Error("ossemu: storing part failed", "key", key, "err", err)
		return internalError("Storing the part failed.")
	}
	obj.committed = true
	obj.setHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	return nil
}

// xmlComplete is the body of CompleteMultipartUpload.
type xmlComplete struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

// chooseParts checks the listed parts against the uploaded ones as OSS does
// and returns them in order.
func chooseParts(doc xmlComplete, uploaded []partMeta) ([]partMeta, *ossError) {
	byNumber := make(map[int]partMeta, len(uploaded))
	for _, p := range uploaded {
		byNumber[p.PartNumber] = p
	}
	if len(doc.Parts) == 0 {
		return nil, malformedXML()
	}
	chosen := make([]partMeta, 0, len(doc.Parts))
	for i, lp := range doc.Parts {
		if i > 0 && lp.PartNumber <= doc.Parts[i-1].PartNumber {
			return nil, newError(http.StatusBadRequest, CodeInvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		p, ok := byNumber[lp.PartNumber]
		if !ok || !strings.EqualFold(strings.Trim(strings.TrimSpace(lp.ETag), `"`), p.ETag) {
			return nil, newError(http.StatusBadRequest, CodeInvalidPart, fmt.Sprintf("One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag (part %d).", lp.PartNumber))
		}
		chosen = append(chosen, p)
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.Size < minPartSize {
			return nil, newError(http.StatusBadRequest, CodeEntityTooSmall, fmt.Sprintf("Your proposed upload smaller than the minimum allowed size: part %d is %d bytes, every part but the last must be at least %d.", p.PartNumber, p.Size, minPartSize))
		}
	}
	return chosen, nil
}

// multipartETag is OSS's ETag of a multipart object: the MD5 of the parts'
// binary MD5s, upper-case hex, then "-" and the number of parts.
func multipartETag(parts []partMeta) string {
	h := md5.New()
	for _, p := range parts {
		b, _ := hex.DecodeString(p.ETag) // written by uploadPart, always hex
		h.Write(b)
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + "-" + strconv.Itoa(len(parts))
}

// completeMultipartUpload answers POST /{key}?uploadId=ID: check the part
// list, join the parts on disk into the object, then answer or call back.
func (e *Emulator) completeMultipartUpload(w http.ResponseWriter, r *http.Request, q map[string]string, key, reqID string) *ossError {
	enc, oerr := newKeyEncoder(q)
	if oerr != nil {
		return oerr
	}
	up, oerr := e.upload(q, key)
	if oerr != nil {
		return oerr
	}
	forbid, oerr := parseForbidOverwrite(r.Header.Get("x-oss-forbid-overwrite"))
	if oerr != nil {
		return oerr
	}
	cb, custom, oerr := putCallback(r, q)
	if oerr != nil {
		return oerr
	}
	completeAll := strings.EqualFold(r.Header.Get("x-oss-complete-all"), "yes")
	var doc xmlComplete
	if completeAll {
		if r.ContentLength > 0 {
			return invalidArgument("With x-oss-complete-all: yes the body must be empty.")
		}
	} else if oerr := readXMLBody(r, maxCompleteBody, &doc); oerr != nil {
		return oerr
	}

	id := up.UploadID
	e.mp.mu.Lock()
	uploaded, err := e.store.listParts(id)
	if err != nil || e.mp.completing[id] {
		e.mp.mu.Unlock()
		return noSuchUpload()
	}
	if completeAll {
		for _, p := range uploaded {
			doc.Parts = append(doc.Parts, struct {
				PartNumber int    `xml:"PartNumber"`
				ETag       string `xml:"ETag"`
			}{p.PartNumber, p.ETag})
		}
	}
	parts, oerr := chooseParts(doc, uploaded)
	if oerr == nil {
		e.mp.completing[id] = true
	}
	e.mp.mu.Unlock()
	if oerr != nil {
		return oerr
	}
	defer func() {
		e.mp.mu.Lock()
		delete(e.mp.completing, id)
		e.mp.mu.Unlock()
	}()
	if forbid && e.store.exists(key) {
		return fileAlreadyExists()
	}

	obj, oerr := e.joinParts(id, parts)
	if oerr != nil {
		return oerr
	}
	defer obj.discard()
	var img *imageInfo
	if cb != nil && needsImageInfo(cb.Body) {
		img = readImageInfo(obj.file)
	}
	meta := objectMeta{
		Key: key, Size: obj.size, ETag: obj.etag, CRC64: obj.crc64, ContentType: up.ContentType,
		Headers: up.Headers, LastModified: e.now().UTC(), ObjectType: "Multipart",
	}
	if oerr := e.commitObject(obj, meta, forbid); oerr != nil {
		return oerr
	}
	e.mp.mu.Lock()
	err = e.store.removeUpload(id)
	e.mp.mu.Unlock()
	if err != nil {
		e.log.Error("ossemu: removing completed upload failed", "upload", id, "err", err)
	}

	h := w.Header()
	h.Set("ETag", `"`+obj.etag+`"`)
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(obj.crc64, 10))
	if cb != nil {
		return e.relayCallback(w, r, cb, &callbackVars{
			Operation: "CompleteMultipartUpload", Bucket: e.cfg.Bucket, Object: key, ETag: obj.etag,
			MimeType: up.ContentType, Size: obj.size, CRC64: obj.crc64,
			ClientIP: clientIP(r), ReqID: reqID, Image: img, Custom: custom,
		})
	}
	return writeXML(w, r, struct {
		XMLName      xml.Name `xml:"CompleteMultipartUploadResult"`
		EncodingType *string  `xml:"EncodingType,omitempty"`
		Location     string   `xml:"Location"`
		Bucket       string   `xml:"Bucket"`
		Key          string   `xml:"Key"`
		ETag         string   `xml:"ETag"`
	}{EncodingType: enc.encodingType(), Location: e.objectURL(r, key), Bucket: e.cfg.Bucket, Key: enc.enc(key), ETag: `"` + obj.etag + `"`})
}

// joinParts concatenates parts, in order, into a new temporary file,
// computing the object's CRC-64 on the way. Memory use is one buffer,
// whatever the size.
func (e *Emulator) joinParts(id string, parts []partMeta) (*received, *ossError) {
	tmp, err := e.store.createTemp()
	if err != nil {
		e.log.Error("ossemu: creating temporary file failed", "err", err)
		return nil, internalError("Storing the object failed.")
	}
	obj := &received{file: tmp, etag: multipartETag(parts)}
	crc := crc64.New(crcTable)
	dst := bufio.NewWriterSize(io.MultiWriter(tmp, crc), fileWriteBuffer)
	for _, p := range parts {
		data, _ := e.store.partPaths(id, p.PartNumber)
		f, err := os.Open(data)
		if err != nil {
			obj.discard()
			e.log.Error("ossemu: reading part failed", "upload", id, "part", p.PartNumber, "err", err)
			return nil, internalError("Reading a part failed.")
		}
		n, err := io.Copy(dst, f)
		f.Close()
		if err != nil || n != p.Size {
			obj.discard()
			e.log.Error("ossemu: joining part failed", "upload", id, "part", p.PartNumber, "err", err)
			return nil, internalError("Joining the parts failed.")
		}
		obj.size += n
	}
	if err := dst.Flush(); err != nil {
		obj.discard()
		return nil, internalError("Storing the object failed.")
	}
	obj.crc64 = crc.Sum64()
	return obj, nil
}

// abortMultipartUpload answers DELETE /{key}?uploadId=ID.
func (e *Emulator) abortMultipartUpload(w http.ResponseWriter, q map[string]string, key string) *ossError {
	up, oerr := e.upload(q, key)
	if oerr != nil {
		return oerr
	}
	e.mp.mu.Lock()
	defer e.mp.mu.Unlock()
	if e.mp.completing[up.UploadID] {
		return noSuchUpload()
	}
	if err := e.store.removeUpload(up.UploadID); err != nil {
		e.log.Error("ossemu: removing upload failed", "upload", up.UploadID, "err", err)
		return internalError("Aborting the upload failed.")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listParts answers GET /{key}?uploadId=ID, max-parts and
// part-number-marker paging.
func (e *Emulator) listParts(w http.ResponseWriter, r *http.Request, q map[string]string, key string) *ossError {
	enc, oerr := newKeyEncoder(q)
	if oerr != nil {
		return oerr
	}
	maxParts, oerr := parseBounded(q, "max-parts", maxPartsPage, 1, maxPartsPage)
	if oerr != nil {
		return oerr
	}
	marker, oerr := parseBounded(q, "part-number-marker", 0, 0, maxPartNumber)
	if oerr != nil {
		return oerr
	}
	up, oerr := e.upload(q, key)
	if oerr != nil {
		return oerr
	}
	e.mp.mu.Lock()
	parts, err := e.store.listParts(up.UploadID)
	e.mp.mu.Unlock()
	if err != nil {
		return noSuchUpload() // aborted meanwhile
	}
	type xmlPart struct {
		PartNumber   int    `xml:"PartNumber"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		HashCRC64    string `xml:"HashCrc64ecma"`
		Size         int64  `xml:"Size"`
	}
	res := struct {
		XMLName              xml.Name  `xml:"ListPartsResult"`
		EncodingType         *string   `xml:"EncodingType,omitempty"`
		Bucket               string    `xml:"Bucket"`
		Key                  string    `xml:"Key"`
		UploadID             string    `xml:"UploadId"`
		StorageClass         string    `xml:"StorageClass"`
		PartNumberMarker     int       `xml:"PartNumberMarker"`
		NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
		MaxParts             int       `xml:"MaxParts"`
		IsTruncated          bool      `xml:"IsTruncated"`
		Parts                []xmlPart `xml:"Part"`
	}{EncodingType: enc.encodingType(), Bucket: e.cfg.Bucket, Key: enc.enc(key), UploadID: up.UploadID,
		StorageClass: "Standard", PartNumberMarker: marker, MaxParts: maxParts}
	for _, p := range parts {
		if p.PartNumber <= marker {
			continue
		}
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, xmlPart{p.PartNumber, ossTime(p.LastModified), `"` + p.ETag + `"`, strconv.FormatUint(p.CRC64, 10), p.Size})
		res.NextPartNumberMarker = p.PartNumber
	}
	return writeXML(w, r, res)
}

// listMultipartUploads answers GET /?uploads: uploads in progress by key
// and upload id, with prefix, key-marker/upload-id-marker and max-uploads.
func (e *Emulator) listMultipartUploads(w http.ResponseWriter, r *http.Request, q map[string]string) *ossError {
	enc, oerr := newKeyEncoder(q)
	if oerr != nil {
		return oerr
	}
	if q["delimiter"] != "" {
		return notImplemented("ListMultipartUploads with a delimiter")
	}
	maxUploads, oerr := parseBounded(q, "max-uploads", maxUploadsPage, 1, maxUploadsPage)
	if oerr != nil {
		return oerr
	}
	prefix, keyMarker, idMarker := q["prefix"], q["key-marker"], q["upload-id-marker"]
	ups, err := e.store.listUploads()
	if err != nil {
		e.log.Error("ossemu: listing uploads failed", "err", err)
		return internalError("Listing the uploads failed.")
	}
	type xmlUpload struct {
		Key          string `xml:"Key"`
		UploadID     string `xml:"UploadId"`
		Initiated    string `xml:"Initiated"`
		StorageClass string `xml:"StorageClass"`
	}
	res := struct {
		XMLName            xml.Name    `xml:"ListMultipartUploadsResult"`
		EncodingType       *string     `xml:"EncodingType,omitempty"`
		Bucket             string      `xml:"Bucket"`
		KeyMarker          string      `xml:"KeyMarker"`
		UploadIDMarker     string      `xml:"UploadIdMarker"`
		NextKeyMarker      string      `xml:"NextKeyMarker"`
		NextUploadIDMarker string      `xml:"NextUploadIdMarker"`
		Delimiter          string      `xml:"Delimiter"`
		Prefix             string      `xml:"Prefix"`
		MaxUploads         int         `xml:"MaxUploads"`
		IsTruncated        bool        `xml:"IsTruncated"`
		Uploads            []xmlUpload `xml:"Upload"`
	}{EncodingType: enc.encodingType(), Bucket: e.cfg.Bucket, KeyMarker: enc.enc(keyMarker),
		UploadIDMarker: idMarker, Prefix: enc.enc(prefix), MaxUploads: maxUploads}
	for _, u := range ups {
		if !strings.HasPrefix(u.Key, prefix) {
			continue
		}
		// Past the markers: a later key, or the marker's key and a later id.
		if keyMarker != "" || idMarker != "" {
			later := u.Key > keyMarker
			if idMarker != "" {
				later = later || u.Key == keyMarker && u.UploadID > idMarker
			}
			if !later {
				continue
			}
		}
		if len(res.Uploads) == maxUploads {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, xmlUpload{enc.enc(u.Key), u.UploadID, ossTime(u.Initiated), "Standard"})
		res.NextKeyMarker, res.NextUploadIDMarker = enc.enc(u.Key), u.UploadID
	}
	return writeXML(w, r, res)
}
