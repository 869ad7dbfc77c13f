package web

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/policy"
)

// TestAnswerUploadMatchesEchoJSON: answerUpload writes what c.JSON wrote,
// byte for byte, with the same status and Content-Type; ?pretty still
// indents.
func TestAnswerUploadMatchesEchoJSON(t *testing.T) {
	up := &policy.SignedUpload{Method: "POST", URL: "https://b.oss-cn-hangzhou.aliyuncs.com",
		Fields:  map[string]string{"key": "uploads/a<b>&c.jpg", "policy": "eyJ4Ijoi\u2028", "x:caption": "hi \"there\" \xff"},
		Headers: map[string]string{}, Key: "uploads/a<b>&c.jpg", ExpiresAt: time.Date(2026, 11, 25, 8, 40, 0, 0, time.UTC),
		MaxSize: 12345, Ticket: "a.b.c", Version: policy.V4}
	e := echo.New()
	for _, target := range []string{"/", "/?pretty"} {
		serve := func(h func(echo.Context) error) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			if err := h(e.NewContext(httptest.NewRequest(http.MethodPost, target, nil), rec)); err != nil {
				t.Fatal(err)
			}
			return rec
		}
		want := serve(func(c echo.Context) error { return c.JSON(http.StatusOK, up) })
		got := serve(func(c echo.Context) error { return answerUpload(c, up) })
		if got.Code != want.Code || got.Body.String() != want.Body.String() ||
			got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
			t.Errorf("%s: answerUpload gave %d %q %s\nc.JSON gave %d %q %s", target,
				got.Code, got.Header().Get("Content-Type"), got.Body, want.Code, want.Header().Get("Content-Type"), want.Body)
		}
		if cl := got.Header().Get("Content-Length"); target == "/" && cl != strconv.Itoa(got.Body.Len()) {
			t.Errorf("Content-Length %q for a %d-byte body", cl, got.Body.Len())
		}
	}
}
