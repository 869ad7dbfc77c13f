package ossclient

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/retry"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/transport"
)

// maxResponseBody bounds every answer the SDK reads: a page of 1000
// uploads with 1023-byte keys, URL-encoded, stays well under it.
const maxResponseBody = 8 << 20

const (
	retryBaseDelay = 100 * time.Millisecond
	retryMaxDelay  = time.Second
)

var errResponseTooLarge = errors.New("ossclient: answer body over the limit")

// boundedClient caps the bodies of answers: the SDK reads error and XML
// bodies with io.ReadAll.
type boundedClient struct {
	c *http.Client
}

func (b boundedClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.c.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxResponseBody}
	return resp, nil
}

// limitedBody fails, instead of truncating, once more than left bytes come.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errResponseTooLarge
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

// httpClient copies hc (or makes one) so that redirects are never followed:
// a redirect would resend a signed request to wherever it points.
func httpClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c = *transport.NewHttpClient(&transport.Config{})
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// newRetryer retries transient failures: answers ≥ 500, 408, 429,
// RequestTimeTooSkewed (the SDK corrects its clock offset first) and
// connection errors. Unlike the SDK's default it does not retry 401s.
func newRetryer(retries int, retryables ...retry.ErrorRetryable) retry.Retryer {
	if retries <= 0 {
		return retry.NopRetryer{}
	}
	if retryables == nil {
		retryables = []retry.ErrorRetryable{transientStatus{}, skewedClock{}, &retry.ConnectionErrorRetryable{}}
	}
	return retry.NewStandard(func(o *retry.RetryOptions) {
		o.MaxAttempts = retries + 1
		o.BaseDelay = retryBaseDelay
		o.MaxBackoff = retryMaxDelay
		o.ErrorRetryables = retryables
	})
}

type transientStatus struct{}

func (transientStatus) IsErrorRetryable(err error) bool {
	var se interface{ HttpStatusCode() int }
	if !errors.As(err, &se) {
		return false
	}
	s := se.HttpStatusCode()
	return s >= 500 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests
}

type skewedClock struct{}

func (skewedClock) IsErrorRetryable(err error) bool {
	var se interface{ ErrorCode() string }
	return errors.As(err, &se) && se.ErrorCode() == "RequestTimeTooSkewed"
}

// dialFailed is the only failure after which a CompleteMultipart is sent
// again: the connection was never made, so OSS never saw the first one.
type dialFailed struct{}

func (dialFailed) IsErrorRetryable(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}
