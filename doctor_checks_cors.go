package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/ossgate/ossgate/ossclient"
)

// What ossgate's browser uploads ask of the bucket's CORS rule.
var (
	// corsUploadMethods: POST for PostObject forms; PUT for presigned PUTs
	// and multipart parts.
	corsUploadMethods = []string{"POST", "PUT"}
	// corsPutHeaders are the headers a presigned PUT carries (the
	// presign answer's headers; TestDoctorCORSHeadersMatchPresign keeps
	// the two together). A form POST sends none beyond the safelisted.
	corsPutHeaders = []string{"content-type", "x-oss-callback", "x-oss-callback-var", "x-oss-forbid-overwrite"}
	// corsExposed must be readable by the page: the ETag names each part
	// of a multipart upload, the request id is what support asks for.
	corsExposed = []string{"ETag", "x-oss-request-id"}
)

// corsFixRule is the rule that makes origins work: the same as the local
// emulator's (ossemu.DefaultCORSRule).
func corsFixRule(origins []string) ossclient.CORSRule {
	return ossclient.CORSRule{
		AllowedOrigins: origins,
		AllowedMethods: []string{"GET", "HEAD", "POST", "PUT", "DELETE"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  corsExposed,
		MaxAgeSeconds:  600,
	}
}

// corsOrigins are the page origins to check: OSSGATE_CORS_ORIGINS, else
// the public URL's (pages ossgate serves itself).
func corsOrigins(c Config) (origins []string, fromPublicURL bool) {
	if len(c.CORSOrigins) > 0 {
		return c.CORSOrigins, false
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Host == "" {
		return nil, true
	}
	return []string{u.Scheme + "://" + u.Host}, true
}

// checkCORS reads the bucket's CORS rules and judges them for every origin.
func (d *doctor) checkCORS(ctx context.Context) []finding {
	origins, fromPublic := corsOrigins(d.cfg)
	rules, err := d.oss.BucketCORS(ctx)
	if err != nil {
		detail, fix := d.explainOSSError(err)
		if isCode(err, "AccessDenied") {
			fix = "allow oss:GetBucketCors for the doctor, or compare the bucket's CORS rules with the one below by hand: " + formatCORSRule(corsFixRule(origins))
		}
		return []finding{failed("cors", "GetBucketCors: "+detail, fix)}
	}
	var out []finding
	for _, o := range origins {
		check := "cors:" + o
		problems, used := corsProblems(rules, o)
		if len(problems) == 0 {
			note := ""
			if fromPublic {
				note = " (the public URL's origin: OSSGATE_CORS_ORIGINS is empty)"
			}
			out = append(out, passed(check, "rule %d allows POST and PUT with the upload headers and exposes ETag, x-oss-request-id%s", used+1, note))
			continue
		}
		out = append(out, failed(check, strings.Join(problems, "; "),
			"add first in the bucket's CORS rules: "+formatCORSRule(corsFixRule([]string{o}))+" (or run ossgate doctor --fix-cors)"))
	}
	return out
}

// corsProblems evaluates rules as OSS does, the first matching rule
// answering, for each upload method from origin. used is the index of the
// rule PUT matched (-1 if none).
func corsProblems(rules []ossclient.CORSRule, origin string) (problems []string, used int) {
	used = -1
	if !anyOriginMatch(rules, origin) {
		what := "no CORS rule names " + origin
		if len(rules) == 0 {
			what = "the bucket has no CORS rules"
		}
		return []string{what + ": the browser refuses every upload from it, with only a network error (\"XHR error\")"}, used
	}
	for _, m := range corsUploadMethods {
		var headers []string
		if m == "PUT" {
			headers = corsPutHeaders
		}
		i := matchCORSRule(rules, origin, m, headers)
		if i < 0 {
			what := "no rule allows " + m + " from " + origin
			if len(headers) > 0 {
				what += " with headers " + strings.Join(headers, ", ")
			}
			problems = append(problems, what)
			continue
		}
		used = i
		var missing []string
		for _, h := range corsExposed {
			if !slices.ContainsFunc(rules[i].ExposeHeaders, func(e string) bool { return strings.EqualFold(e, h) }) {
				missing = append(missing, h)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("rule %d (which answers %s) does not expose %s: the page cannot read it, so multipart uploads cannot complete", i+1, m, strings.Join(missing, ", ")))
		}
	}
	return slices.Compact(problems), used
}

// matchCORSRule is the index of the first rule allowing origin, method and
// every header, or -1; origins and headers may hold one "*".
func matchCORSRule(rules []ossclient.CORSRule, origin, method string, headers []string) int {
	for i, r := range rules {
		if !slices.ContainsFunc(r.AllowedOrigins, func(o string) bool { return wildcardMatch(o, origin) }) || !slices.Contains(r.AllowedMethods, method) {
			continue
		}
		all := true
		for _, h := range headers {
			if !slices.ContainsFunc(r.AllowedHeaders, func(a string) bool { return wildcardMatch(strings.ToLower(a), h) }) {
				all = false
				break
			}
		}
		if all {
			return i
		}
	}
	return -1
}

func anyOriginMatch(rules []ossclient.CORSRule, origin string) bool {
	return slices.ContainsFunc(rules, func(r ossclient.CORSRule) bool {
		return slices.ContainsFunc(r.AllowedOrigins, func(o string) bool { return wildcardMatch(o, origin) })
	})
}

// wildcardMatch matches s against a pattern with at most one "*", as OSS
// matches CORS origins and headers.
func wildcardMatch(pattern, s string) bool {
	pre, post, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(pre)+len(post) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, post)
}

// formatCORSRule prints a rule in the console's terms, on one line.
func formatCORSRule(r ossclient.CORSRule) string {
	s := fmt.Sprintf("{AllowedOrigin: %s; AllowedMethod: %s; AllowedHeader: %s; ExposeHeader: %s",
		strings.Join(r.AllowedOrigins, ", "), strings.Join(r.AllowedMethods, ", "), orDash(strings.Join(r.AllowedHeaders, ", ")), orDash(strings.Join(r.ExposeHeaders, ", ")))
	if r.MaxAgeSeconds > 0 {
		s += fmt.Sprintf("; MaxAgeSeconds: %d", r.MaxAgeSeconds)
	}
	return s + "}"
}

// mergeCORS puts the fixing rule first, since the first matching rule is
// the one OSS answers with, and keeps every existing rule after it.
func mergeCORS(rules []ossclient.CORSRule, origins []string) ([]ossclient.CORSRule, error) {
	if len(rules)+1 > ossclient.MaxCORSRules {
		return nil, fmt.Errorf("the bucket already has %d CORS rules, OSS's limit; add the origins to one of them by hand", len(rules))
	}
	return append([]ossclient.CORSRule{corsFixRule(origins)}, rules...), nil
}

// fixCORS is --fix-cors: it adds one rule for the origins that do not work,
// after showing the result and asking (unless yes). It returns 0 to go on
// with the checks, else the exit status.
func (d *doctor) fixCORS(ctx context.Context, stdin io.Reader, stdout io.Writer, yes bool) int {
	rules, err := d.oss.BucketCORS(ctx)
	if err != nil {
		detail, _ := d.explainOSSError(err)
		fmt.Fprintln(stdout, "fix-cors: cannot read the bucket's CORS rules:", detail)
		return 1
	}
	origins, _ := corsOrigins(d.cfg)
	var broken []string
	for _, o := range origins {
		if p, _ := corsProblems(rules, o); len(p) > 0 {
			broken = append(broken, o)
		}
	}
	if len(broken) == 0 {
		fmt.Fprintln(stdout, "fix-cors: every origin already has a working rule; nothing to change")
		return 0
	}
	merged, err := mergeCORS(rules, broken)
	if err != nil {
		fmt.Fprintln(stdout, "fix-cors:", err)
		return 1
	}
	fmt.Fprintf(stdout, "fix-cors: bucket %s's CORS rules would become (+ is new; nothing is removed):\n", d.cfg.Bucket)
	for i, r := range merged {
		mark := " "
		if i == 0 {
			mark = "+"
		}
		fmt.Fprintf(stdout, "  %s %d. %s\n", mark, i+1, formatCORSRule(r))
	}
	if !yes {
		fmt.Fprint(stdout, "fix-cors: apply? [y/N] ")
		line, _ := bufio.NewReader(io.LimitReader(stdin, 64)).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(stdout, "fix-cors: not changed")
			return 1
		}
	}
	if err := d.oss.PutBucketCORS(ctx, merged); err != nil {
		detail, fix := d.explainOSSError(err)
		if isCode(err, "AccessDenied") {
			fix = "allow oss:PutBucketCors for these credentials, or add the rule in the console"
		}
		fmt.Fprintln(stdout, "fix-cors: PutBucketCors:", detail, fix)
		return 1
	}
	fmt.Fprintln(stdout, "fix-cors: rule added for", strings.Join(broken, ", "))
	return 0
}
