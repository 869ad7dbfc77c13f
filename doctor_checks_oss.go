package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ossgate/ossgate/ossclient"
)

// OSS refuses a signed request more than 15 minutes off its clock
// (RequestTimeTooSkewed); the doctor fails a little before that.
const (
	ossSkewLimit  = 15 * time.Minute
	clockFailAt   = 14 * time.Minute
	clockWarnOver = time.Minute
)

// checkBucket reads the bucket's metadata: the bucket exists, in the
// configured region, and the credentials are accepted. ok is false when
// nothing else about the bucket can be learnt; info is nil when its
// metadata could not be read (GetBucketInfo denied).
func (d *doctor) checkBucket(ctx context.Context) (f finding, info *ossclient.BucketInfo, ok bool, err error) {
	const check = "oss.bucket"
	c := d.cfg
	b, err := d.oss.BucketInfo(ctx)
	if err == nil {
		f, info, ok = d.judgeBucket(b)
		return f, info, ok, nil
	}
	if isCode(err, "AccessDenied") {
		// The server never calls GetBucketInfo, so a tight RAM policy may
		// deny it: a HeadObject still tells a bucket that exists.
		if _, herr := d.oss.HeadObject(ctx, d.probeKey()); errors.Is(herr, ossclient.ErrNotFound) && !errors.Is(herr, ossclient.ErrNoSuchBucket) {
			return warned(check, fmt.Sprintf("bucket %s exists and the credentials are accepted, but they may not GetBucketInfo: its region and ACL are not checked", c.Bucket),
				"allow oss:GetBucketInfo on the bucket for the doctor, or ignore this (the server does not need it)"), nil, true, nil
		}
	}
	detail, fix := d.explainOSSError(err)
	return failed(check, "GetBucketInfo of "+c.Bucket+": "+detail, fix), nil, false, err
}

// judgeBucket checks the metadata of a bucket that could be read.
func (d *doctor) judgeBucket(b ossclient.BucketInfo) (finding, *ossclient.BucketInfo, bool) {
	const check = "oss.bucket"
	c := d.cfg
	if want := "oss-" + c.Region; b.Location != "" && b.Location != want {
		return failed(check, fmt.Sprintf("bucket %s is in %s, but OSS_REGION is %s", c.Bucket, b.Location, c.Region),
			fmt.Sprintf("set OSS_REGION=%s (and OSSGATE_OSS_ENDPOINT / OSSGATE_UPLOAD_URL, if set, to that region's)", b.Location)), &b, true
	}
	detail := fmt.Sprintf("bucket %s in %s, ACL %s; the credentials can read its metadata", c.Bucket, b.Location, orDash(b.ACL))
	switch {
	case c.Local:
	case b.ACL == "public-read-write":
		return failed(check, detail+": anyone can write to it", "set the bucket ACL to private: ossgate signs every upload and download"), &b, true
	case b.ACL == "public-read":
		return warned(check, detail+": anyone who knows a key can read the object", "set the bucket ACL to private unless the objects are meant to be public (ossgate signs downloads)"), &b, true
	}
	return passed(check, "%s", detail), &b, true
}

// checkSTS says what can be known of an STS token: OSS accepted it now.
func (d *doctor) checkSTS() finding {
	return warned("oss.sts_token",
		"OSS_SESSION_TOKEN is set (temporary credentials); its remaining lifetime cannot be read from the token, and ossgate reads it once at start",
		"renew the STS credentials (AssumeRole gives 15 min to 12 h) and restart ossgate with them before they expire")
}

// checkClock compares this host's clock with OSS's Date. Policies and
// presigned URLs are signed with this host's time.
func (d *doctor) checkClock(ctx context.Context) finding {
	const check = "clock"
	off, err := d.oss.ClockOffset(ctx)
	if err != nil {
		detail, _ := d.explainOSSError(err)
		return warned(check, "not measured: "+detail, "")
	}
	where := "ahead of"
	if off > 0 {
		where = "behind" // OSS is ahead: this host is behind it
	}
	abs := off.Abs()
	says := fmt.Sprintf("this host's clock is %s %s OSS's", abs.Round(time.Second), where)
	fix := "synchronize this host's clock (chrony or systemd-timesyncd; ntp.aliyun.com inside Alibaba Cloud)"
	switch {
	case abs >= clockFailAt:
		return failed(check, says+fmt.Sprintf(": OSS refuses signed requests more than %s off (RequestTimeTooSkewed)", ossSkewLimit), fix)
	case abs >= d.cfg.PolicyTTL:
		return failed(check, says+fmt.Sprintf(", past OSSGATE_POLICY_TTL (%s): policies expire, by OSS's clock, before they can be used", d.cfg.PolicyTTL), fix)
	case abs > clockWarnOver:
		return warned(check, says+fmt.Sprintf(": over %s eats into every policy's %s lifetime", clockWarnOver, d.cfg.PolicyTTL), fix)
	}
	return passed(check, "this host is within %s of OSS's clock (offset %+.1fs, from OSS's Date)", clockWarnOver, off.Seconds())
}

// checkPermissions probes the RAM actions ossgate uses without changing
// anything in the bucket: each probe names a key or an upload that does not
// exist, and OSS checks permissions before existence.
func (d *doctor) checkPermissions(ctx context.Context, info *ossclient.BucketInfo) []finding {
	key := d.probeKey()
	var out []finding

	_, err := d.oss.HeadObject(ctx, key)
	absent := errors.Is(err, ossclient.ErrNotFound)
	switch {
	case absent:
		out = append(out, passed("perm.HeadObject", "oss:GetObject allowed (HeadObject of a missing key answered 404)"))
	case d.cfg.CallbackConfirm == "head":
		out = append(out, d.permFailure("perm.HeadObject", "oss:GetObject", err,
			"callbacks cannot be confirmed (OSSGATE_CALLBACK_CONFIRM=head) nor downloads signed", "or set OSSGATE_CALLBACK_CONFIRM=off"))
	default:
		f := d.permFailure("perm.HeadObject", "oss:GetObject", err, "signed download links will not work", "")
		f.Status = warn
		out = append(out, f)
	}

	if _, err := d.oss.ListMultipartUploads(ctx, d.cfg.KeyPrefix, 1); err != nil {
		out = append(out, d.permFailure("perm.ListMultipartUploads", "oss:ListMultipartUploads", err, "unfinished multipart uploads cannot be found and cleaned up", ""))
	} else {
		out = append(out, passed("perm.ListMultipartUploads", "oss:ListMultipartUploads allowed"))
	}

	if err := d.oss.AbortMultipart(ctx, key, randomHex(16)); errors.Is(err, ossclient.ErrNoSuchUpload) {
		out = append(out, passed("perm.AbortMultipartUpload",
			"oss:AbortMultipartUpload allowed (NoSuchUpload for a made-up upload id); oss:PutObject (initiate, parts, complete) is not probed: that would write"))
	} else {
		out = append(out, d.permFailure("perm.AbortMultipartUpload", "oss:AbortMultipartUpload", err, "abandoned multipart uploads cannot be aborted", ""))
	}

	out = append(out, d.checkDelete(ctx, key, absent, info))
	return out
}

// checkDelete deletes the probe key, which HeadObject found missing: on an
// unversioned bucket that changes nothing. On a versioned one it would
// leave a delete marker, so there the permission is not probed.
func (d *doctor) checkDelete(ctx context.Context, key string, absent bool, info *ossclient.BucketInfo) finding {
	const check = "perm.DeleteObject"
	grant := "make sure the RAM policy allows oss:DeleteObject on acs:oss:*:*:" + d.cfg.Bucket + "/" + d.cfg.KeyPrefix + "*"
	switch {
	case info == nil:
		return warned(check, "not probed: the bucket's versioning is unknown (GetBucketInfo denied), and on a versioned bucket a delete leaves a marker", grant)
	case info.Versioning == "Enabled" || info.Versioning == "Suspended":
		return warned(check, "not probed: versioning is "+info.Versioning+", and there a delete of a missing key leaves a delete marker", grant)
	case !absent:
		return warned(check, "not probed: HeadObject could not confirm that the probe key is missing", grant)
	}
	if err := d.oss.DeleteObject(ctx, key); err != nil {
		return d.permFailure(check, "oss:DeleteObject", err, "objects cannot be deleted", "")
	}
	return passed(check, "oss:DeleteObject allowed (deleting a missing key of an unversioned bucket changes nothing)")
}

// permFailure is the finding of a probe that did not answer as an allowed
// action would.
func (d *doctor) permFailure(check, action string, err error, consequence, alternative string) finding {
	if errors.Is(err, ossclient.ErrAccessDenied) && isCode(err, "AccessDenied") {
		fix := fmt.Sprintf("allow %s on acs:oss:*:*:%s/%s* in the RAM policy of these credentials", action, d.cfg.Bucket, d.cfg.KeyPrefix)
		if alternative != "" {
			fix += ", " + alternative
		}
		return failed(check, action+" denied: "+consequence, fix)
	}
	detail, fix := d.explainOSSError(err)
	return failed(check, action+" not confirmed: "+detail, fix)
}

// probeKey is a key under the prefix that no upload will ever have.
func (d *doctor) probeKey() string {
	return d.cfg.KeyPrefix + "ossgate-doctor-probe/" + randomHex(16)
}

// explainOSSError turns an ossclient error into what went wrong and what
// to do about it.
func (d *doctor) explainOSSError(err error) (detail, fix string) {
	c := d.cfg
	var oe *ossclient.Error
	if !errors.As(err, &oe) {
		return err.Error(), ""
	}
	detail = err.Error()
	localKeys := ""
	if c.Local {
		localKeys = "; in local mode the emulator runs inside the ossgate server: give the server and the doctor the same OSSGATE_LOCAL_OSS_ACCESS_KEY_ID and OSSGATE_LOCAL_OSS_ACCESS_KEY_SECRET"
	}
	switch {
	case errors.Is(err, ossclient.ErrNoSuchBucket):
		return "no bucket " + c.Bucket + " at " + c.OSSEndpoint, "create the bucket, or set OSS_BUCKET and OSS_REGION to an existing one"
	case oe.Code == "InvalidAccessKeyId":
		return "OSS does not know this access key id (" + oe.Code + ")", "check OSS_ACCESS_KEY_ID: the key may be disabled or deleted" + localKeys
	case oe.Code == "SignatureDoesNotMatch":
		return "the access key secret does not match the key id (" + oe.Code + ")", "check OSS_ACCESS_KEY_SECRET" + localKeys
	case oe.Code == "SecurityTokenExpired" || oe.Code == "InvalidSecurityToken":
		return "the STS token is refused (" + oe.Code + ")", "get new STS credentials and restart with them (OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_SESSION_TOKEN)"
	case oe.Code == "RequestTimeTooSkewed":
		return "OSS refuses this host's time (" + oe.Code + ")", "synchronize this host's clock (see the clock check)"
	case errors.Is(err, ossclient.ErrAccessDenied):
		return detail, "check the credentials and the RAM policy of OSS_ACCESS_KEY_ID"
	case errors.Is(err, ossclient.ErrUnavailable):
		fix = "check OSSGATE_OSS_ENDPOINT (" + c.OSSEndpoint + ") and that this host can reach it"
		if c.Local {
			fix = "start ossgate first: in local mode its OSS emulator (" + c.OSSEndpoint + ") runs inside the server"
		}
		return detail, fix
	}
	return detail, ""
}

func isCode(err error, code string) bool {
	var oe *ossclient.Error
	return errors.As(err, &oe) && oe.Code == code
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
