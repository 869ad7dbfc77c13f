package webhook

import (
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

// Body is the delivery body of ev. It depends only on ev, so every attempt
// sends the same bytes.
func Body(ev store.Event) ([]byte, error) {
	if !json.Valid(ev.Data) {
		return nil, errors.New("webhook: event data is not JSON")
	}
	return json.Marshal(Payload{Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Data: ev.Data})
}
