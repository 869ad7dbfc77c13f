package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/policy"
)

// The libraries own their rules: loadConfig only parses the environment,
// then asks each library to validate the configuration made from it, and
// names the variable behind each field a library reports (as tusd's
// handler.Config.validate next to its parse-only flags).

// issuerVars names the variable behind each policy.IssuerConfig field.
var issuerVars = map[string]string{
	"Credentials":      "OSS_ACCESS_KEY_ID",
	"Region":           "OSS_REGION",
	"Bucket":           "OSS_BUCKET",
	"UploadURL":        "OSSGATE_UPLOAD_URL",
	"CallbackURL":      "OSSGATE_PUBLIC_URL",
	"CallbackBodyType": "OSSGATE_CALLBACK_BODY_TYPE",
	"TicketSecret":     "OSSGATE_TICKET_SECRET",
	"KeyPrefix":        "OSSGATE_KEY_PREFIX",
	"MaxSize":          "OSSGATE_MAX_SIZE",
	"AllowedTypes":     "OSSGATE_ALLOWED_TYPES",
	"TTL":              "OSSGATE_POLICY_TTL",
	"DefaultVersion":   "OSSGATE_SIGNATURE_VERSION",
}

// fetcherVars names the variable behind each callback.FetcherConfig field.
var fetcherVars = map[string]string{
	"AllowedKeyURLs": "OSSGATE_CALLBACK_KEY_URLS",
}

// derivedFrom lists, for a variable, those whose errors explain its own:
// the default upload URL is made from the bucket and region, and the
// credentials are one field for two variables.
var derivedFrom = map[string][]string{
	"OSSGATE_UPLOAD_URL": {"OSS_BUCKET", "OSS_REGION"},
	"OSS_ACCESS_KEY_ID":  {"OSS_ACCESS_KEY_SECRET"},
}

// issuerConfig is the policy core's configuration, made in one place for
// validation and for the server.
func (c Config) issuerConfig() policy.IssuerConfig {
	return policy.IssuerConfig{
		Credentials:      c.Credentials,
		Region:           c.Region,
		Bucket:           c.Bucket,
		UploadURL:        c.UploadURL,
		CallbackURL:      c.PublicURL + "/api/uploads/callback",
		CallbackBodyType: c.CallbackBodyType,
		TicketSecret:     c.TicketSecret,
		KeyPrefix:        c.KeyPrefix,
		MaxSize:          c.MaxSize,
		AllowedTypes:     c.AllowedTypes,
		TTL:              c.PolicyTTL,
		DefaultVersion:   c.SignatureVer,
	}
}

// fetcherConfig is the callback key fetcher's configuration (OnFetch is
// the server's to add).
func (c Config) fetcherConfig() callback.FetcherConfig {
	return callback.FetcherConfig{AllowedKeyURLs: c.CallbackKeyURLs}
}

// validateLibraries returns one error per problem the libraries find, each
// naming its variable, except for variables already reported (skip).
func (c Config) validateLibraries(skip map[string]bool) []error {
	var errs []error
	add := func(vars map[string]string, field, problem string) {
		name, ok := vars[field]
		if !ok {
			name = "configuration" // a field no variable sets: a bug of ossgate's
		}
		if skip[name] {
			return
		}
		for _, cause := range derivedFrom[name] {
			if skip[cause] {
				return // the value was derived from one already reported
			}
		}
		skip[name] = true // one line per variable is enough
		errs = append(errs, fmt.Errorf("%s: %s", name, c.scrubPasswords(problem)))
	}
	for _, fe := range policy.FieldErrors(c.issuerConfig().Validate()) {
		add(issuerVars, fe.Field, fe.Problem)
	}
	for _, fe := range callback.FieldErrors(c.fetcherConfig().Validate()) {
		add(fetcherVars, fe.Field, fe.Problem)
	}
	return errs
}

// reported is the set of variables errs already name ("NAME: …").
func reported(errs []error) map[string]bool {
	seen := map[string]bool{}
	for _, err := range errs {
		if name, _, ok := strings.Cut(err.Error(), ":"); ok {
			seen[name] = true
		}
	}
	return seen
}

// scrubPasswords hides the passwords of the configured URLs wherever a
// library's message quotes one.
func (c Config) scrubPasswords(msg string) string {
	for _, raw := range append([]string{c.UploadURL, c.PublicURL, c.OSSEndpoint}, c.CallbackKeyURLs...) {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	return msg
}
