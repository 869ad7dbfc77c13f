package ossemu

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"
)

// OSS error codes the emulator answers with. They are the codes real OSS
// uses, so clients' error handling can be tested against the emulator.
const (
	CodeAccessDenied          = "AccessDenied"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeInvalidAccessKeyID    = "InvalidAccessKeyId"
	CodeInvalidPolicyDocument = "InvalidPolicyDocument"
	CodeInvalidArgument       = "InvalidArgument"
	CodeInvalidObjectName     = "InvalidObjectName"
	CodeInvalidDigest         = "InvalidDigest"
	CodeEntityTooLarge        = "EntityTooLarge"
	CodeEntityTooSmall        = "EntityTooSmall"
	CodeMalformedPOSTRequest  = "MalformedPOSTRequest"
	CodeIncompleteBody        = "IncompleteBody"
	CodeNoSuchKey             = "NoSuchKey"
	CodeMethodNotAllowed      = "MethodNotAllowed"
	CodeNotImplemented        = "NotImplemented"
	CodeCallbackFailed        = "CallbackFailed"
	CodeInternalError         = "InternalError"
	CodeRequestTimeTooSkewed  = "RequestTimeTooSkewed"
	CodeFileAlreadyExists     = "FileAlreadyExists"
	CodeNoSuchUpload          = "NoSuchUpload"
	CodeInvalidPart           = "InvalidPart"
	CodeInvalidPartOrder      = "InvalidPartOrder"
	CodeMalformedXML          = "MalformedXML"
	CodeAccessForbidden       = "AccessForbidden"
	CodeNoSuchCORSConfig      = "NoSuchCORSConfiguration"
	CodeInvalidRequest        = "InvalidRequest"
	// Image processing (x-oss-process) codes.
	CodeBadRequest      = "BadRequest"
	CodeMissingArgument = "MissingArgument"
	CodeImageTooLarge   = "ImageTooLarge"
	CodeNoSuchStyle     = "NoSuchStyle"
)

// ossError is one OSS-style failure: the HTTP status and the Code and Message
// of the XML body.
type ossError struct {
	Status  int
	Code    string
	Message string
	// What the emulator signed, sent back with SignatureDoesNotMatch as OSS
	// does, so a client can find where its signer differs. Optional.
	StringToSign     string
	CanonicalRequest string
	// More elements of the XML body, e.g. RequestTime and ServerTime of
	// RequestTimeTooSkewed. Optional.
	Extra [][2]string
}

func (e *ossError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *ossError {
	return &ossError{Status: status, Code: code, Message: msg}
}

func accessDenied(msg string) *ossError {
	return newError(http.StatusForbidden, CodeAccessDenied, msg)
}

func invalidArgument(msg string) *ossError {
	return newError(http.StatusBadRequest, CodeInvalidArgument, msg)
}

func malformedXML() *ossError {
	return newError(http.StatusBadRequest, CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.")
}

func notImplemented(what string) *ossError {
	return newError(http.StatusNotImplemented, CodeNotImplemented, what+" is not implemented by the emulator.")
}

func internalError(msg string) *ossError {
	return newError(http.StatusInternalServerError, CodeInternalError, msg)
}

// errorXML renders the body OSS sends with an error. Every value is escaped:
// messages quote policy conditions, which hold user input.
func errorXML(code, msg, reqID, hostID string, extra ...[2]string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>\n")
	writeXMLElem(&b, "Code", code)
	writeXMLElem(&b, "Message", msg)
	writeXMLElem(&b, "RequestId", reqID)
	writeXMLElem(&b, "HostId", hostID)
	for _, kv := range extra {
		if kv[1] != "" {
			writeXMLElem(&b, kv[0], kv[1])
		}
	}
	b.WriteString("</Error>\n")
	return b.Bytes()
}

func writeXMLElem(b *bytes.Buffer, name, value string) {
	b.WriteString("  <" + name + ">")
	_ = xml.EscapeText(b, []byte(value)) // writes to a bytes.Buffer cannot fail
	b.WriteString("</" + name + ">\n")
}

// writeError sends e as OSS does: XML body, application/xml, the request id
// header (already set by ServeHTTP).
func writeError(w http.ResponseWriter, r *http.Request, reqID string, e *ossError) {
	extra := append([][2]string{{"StringToSign", e.StringToSign}, {"CanonicalRequest", e.CanonicalRequest}}, e.Extra...)
	body := errorXML(e.Code, e.Message, reqID, r.Host, extra...)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if r.Method == http.MethodHead {
		// A HEAD answer has no body: OSS sends the error document base64
		// in x-oss-err, where the SDKs read the code from.
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
