package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/ossgate/ossgate/callback"
	"github.com/ossgate/ossgate/ossemu"
	"github.com/ossgate/ossgate/web"
)

// ossKeyFile is the name of OSS's callback signing key document
// (https://gosspublic.alicdn.com/callback_pub_key_v1.pem).
const ossKeyFile = "callback_pub_key_v1.pem"

// maxDoctorAnswer bounds what the doctor reads of the public URL's answer.
const maxDoctorAnswer = 4 << 10

// checkCallbacks: OSS can reach the public URL, the key host answers, and
// the public URL leads to this very deployment.
func (d *doctor) checkCallbacks(ctx context.Context) []finding {
	out := []finding{d.checkPublicAddress(ctx)}
	out = append(out, d.checkKeyHosts(ctx)...)
	return append(out, d.checkReach(ctx))
}

// checkPublicAddress: OSS calls back from the internet, so the public URL
// must resolve to public addresses only.
func (d *doctor) checkPublicAddress(ctx context.Context) finding {
	const check = "callback.public_url"
	c := d.cfg
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return failed(check, "OSSGATE_PUBLIC_URL does not parse", "set it to the https base URL OSS reaches ossgate at")
	}
	if c.Local {
		return passed(check, "local mode: the emulator calls back %s on this machine (real OSS needs a public address)", c.PublicURL)
	}
	addrs, err := d.resolve(ctx, u.Hostname())
	if err != nil {
		return failed(check, fmt.Sprintf("%s does not resolve: %v", u.Hostname(), err), "publish a DNS record for it that OSS can resolve, or use the public address")
	}
	for _, a := range addrs {
		if kind := nonPublicKind(a); kind != "" {
			return failed(check, fmt.Sprintf("%s is %s, a %s address OSS cannot reach from the internet", u.Host, a, kind),
				"set OSSGATE_PUBLIC_URL to the public (https) address of the load balancer or proxy in front of ossgate")
		}
	}
	list := make([]string, len(addrs))
	for i, a := range addrs {
		list[i] = a.String()
	}
	if u.Scheme != "https" {
		return warned(check, fmt.Sprintf("%s is public (%s) but plain http: callback bodies and their answers travel unencrypted", u.Host, strings.Join(list, ", ")),
			"serve ossgate behind https and set OSSGATE_PUBLIC_URL to the https URL")
	}
	return passed(check, "%s resolves to public addresses only (%s)", u.Host, strings.Join(list, ", "))
}

func (d *doctor) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := d.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) {
			return nil, errors.New(de.Err)
		}
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	return addrs, nil
}

// nonPublicKind names why a is not reachable from the internet, or "".
func nonPublicKind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	case sharedSpace.Contains(a):
		return "carrier-grade NAT (100.64.0.0/10)"
	}
	return ""
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// checkKeyHosts fetches the callback public key from each allowed key
// URL with the server's own fetcher (allowlist, limits, parsing).
func (d *doctor) checkKeyHosts(ctx context.Context) []finding {
	c := d.cfg
	fc := c.fetcherConfig()
	fc.Timeout = 4 * time.Second
	urls := keyURLs(c.CallbackKeyURLs)
	if c.Local {
		// Local callbacks are signed by the emulator: its key is the one
		// that matters (the server allows it beside the list).
		emuKey := strings.TrimSuffix(c.OSSEndpoint, "/") + ossemu.PubKeyPath
		fc.AllowedKeyURLs = append(fc.AllowedKeyURLs, emuKey)
		urls = []string{emuKey}
	}
	fetcher, err := callback.NewFetcher(fc)
	if err != nil {
		return []finding{failed("callback.key", "OSSGATE_CALLBACK_KEY_URLS: "+err.Error(), "list key URLs or https prefixes like https://gosspublic.alicdn.com/")}
	}
	var out []finding
	for _, u := range urls {
		check := "callback.key:" + redactURL(u)
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		key, err := fetcher.PublicKey(fctx, u)
		cancel()
		if err != nil || key == nil {
			out = append(out, failed(check, fmt.Sprintf("no usable key from %s: %v", redactURL(u), err),
				"let this host fetch "+redactURL(u)+" (OSS names its key URL in each callback, and ossgate fetches it from there), or fix OSSGATE_CALLBACK_KEY_URLS"))
			continue
		}
		out = append(out, passed(check, "answers a %d-bit RSA key", key.N.BitLen()))
	}
	return out
}

// keyURLs are the key documents the allowlist stands for: an exact URL as
// it is, a prefix with OSS's key file name under it.
func keyURLs(allowed []string) []string {
	var out []string
	for _, a := range allowed {
		if strings.HasSuffix(a, "/") {
			a += ossKeyFile
		}
		out = append(out, a)
	}
	return out
}

// checkReach sends a challenge signed with the ticket secret to the public
// URL: only an ossgate with the same secret answers it, and its answer
// says which path the request arrived at, so a proxy in between shows.
func (d *doctor) checkReach(ctx context.Context) finding {
	const check = "callback.reach"
	c := d.cfg
	if c.Local && d.getenv("OSSGATE_TICKET_SECRET") == "" {
		return warned(check, "not checked: local mode generates OSSGATE_TICKET_SECRET in each process, so no server can prove it is this one",
			"set the same OSSGATE_TICKET_SECRET (32+ bytes) for the server and the doctor to check it")
	}
	challenge := web.NewDoctorChallenge(c.TicketSecret, d.now())
	target := c.PublicURL + web.DoctorPathPrefix + challenge
	shown := c.PublicURL + web.DoctorPathPrefix + "…"
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return failed(check, "OSSGATE_PUBLIC_URL makes no request URL", "set it to an http(s) base URL")
	}
	res, err := d.web.Do(req)
	if err != nil {
		return failed(check, "GET "+shown+": "+unwrapURLErr(err),
			"run ossgate, and make "+c.PublicURL+" lead to it (DNS, load balancer, proxy) the way OSS will reach it")
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxDoctorAnswer))
	sentPath := strings.TrimSuffix(mustPath(c.PublicURL), "/") + web.DoctorPathPrefix + challenge
	proxyFix := "make " + c.PublicURL + " lead to this ossgate (DNS, load balancer, the same OSSGATE_TICKET_SECRET)"
	if p := mustPath(c.PublicURL); p != "" {
		proxyFix += "; the proxy must strip " + p + " and forward " + p + "/api/… to ossgate as /api/…"
	}
	switch {
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return failed(check, fmt.Sprintf("GET %s answered %d, a redirect to %q: OSS does not follow redirects", shown, res.StatusCode, res.Header.Get("Location")),
			"set OSSGATE_PUBLIC_URL to the URL the redirect leads to")
	case res.StatusCode == http.StatusNotFound:
		return failed(check, "GET "+shown+" answered 404: no ossgate with this ticket secret is behind it (another deployment, a proxy that changes the path, or another service)", proxyFix)
	case res.StatusCode != http.StatusOK:
		return failed(check, fmt.Sprintf("GET %s answered %d", shown, res.StatusCode), proxyFix)
	}
	var a web.DoctorAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Proof == "" {
		return failed(check, "GET "+shown+" answered 200 but not as ossgate does", proxyFix)
	}
	if !web.CheckDoctorAnswer(c.TicketSecret, challenge, a) {
		return failed(check, "an ossgate answered at "+c.PublicURL+", but not one with this OSSGATE_TICKET_SECRET: callbacks there would be refused (invalid_ticket)",
			"point OSSGATE_PUBLIC_URL at this deployment, or give every instance the same OSSGATE_TICKET_SECRET")
	}
	want := callbackPath(c.PublicURL)
	if a.CallbackPath != want {
		return failed(check, fmt.Sprintf("the ossgate at %s verifies callbacks against %s, but OSS will sign %s", c.PublicURL, a.CallbackPath, want),
			"run that server with the same OSSGATE_PUBLIC_URL as this configuration")
	}
	detail := "this ossgate answered a signed challenge at " + c.PublicURL
	if a.Path != sentPath {
		detail += fmt.Sprintf(" (a proxy forwards %s as %s; callbacks are verified against %s, the path OSS signs)", mustPath(c.PublicURL)+"/api/…", "/api/…", want)
	}
	return passed(check, "%s", detail)
}

// mustPath is the escaped path of a base URL, without a trailing slash.
func mustPath(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.EscapedPath(), "/")
}

// unwrapURLErr drops the *url.Error around err: it would print the URL,
// challenge included.
func unwrapURLErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}
