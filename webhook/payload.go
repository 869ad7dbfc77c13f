package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/ossgate/ossgate/store"
)

// Payload is the JSON body of a delivery, in the Standard Webhooks shape.
type Payload struct {
	Type      string          `json:"type"`      // upload.completed, upload.deleted
	Timestamp time.Time       `json:"timestamp"` // when the event happened (not the attempt)
	Data      json.RawMessage `json:"data"`      // the record, with its user
}

// Body is the delivery body of ev: json.Marshal of its Payload. It depends
// only on ev, so every attempt sends the same bytes.
func Body(ev store.Event) ([]byte, error) {
	if !json.Valid(ev.Data) {
		return nil, errors.New("webhook: event data is not JSON")
	}
	if y := ev.CreatedAt.Year(); y < 0 || y > 9999 || !plain(ev.Type) || bytes.ContainsAny(ev.Data, " \t\r\n<>&\u2028\u2029") {
		return json.Marshal(Payload{Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Data: ev.Data})
	}
	// The store's data is json.Marshal's own output: compact and HTML-
	// escaped, which is what Marshal would make of it again. So the body is
	// put together directly, without reflection and a second pass over
	// the data (TestBodyMatchesMarshal holds the two equal).
	b := make([]byte, 0, len(ev.Data)+len(ev.Type)+64)
	b = append(b, `{"type":"`...)
	b = append(b, ev.Type...)
	b = append(b, `","timestamp":"`...)
	b = ev.CreatedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, ev.Data...)
	return append(b, '}'), nil
}

// plain: s needs no escaping in a JSON string.
func plain(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
