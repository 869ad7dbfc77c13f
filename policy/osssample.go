package policy

import "time"

// OSSSample is a POST policy in the JSON shape of the official OSS sample
// app servers, so frontends built on those samples keep working: they post
// key = dir + a name of their choosing, policy, OSSAccessKeyId = accessid,
// signature, callback and success_action_status "200".
type OSSSample struct {
	AccessID      string `json:"accessid"`
	Host          string `json:"host"`
	Policy        string `json:"policy"`
	Signature     string `json:"signature"`
	Expire        int64  `json:"expire"` // Unix seconds
	Callback      string `json:"callback"`
	Dir           string `json:"dir"`
	SecurityToken string `json:"x-oss-security-token,omitempty"` // STS only: send as a form field
}

// IssueOSSSample is Issue for the OSS sample frontends. They choose the
// object's name, so the policy binds a directory of its own
// ({prefix}{user}/{yyyy}/{mm}/{dd}/{id}/) with starts-with instead of the
// exact key, and the ticket allows one plain name in it. They send no
// Content-Type field, so OSS takes the type from the name's extension and
// the callback checks it against the declared type. They send no x: vars
// and sign with V1 only, so vars and signatureVersion v4 are refused.
//
// Unlike Issue and Presign, the policy does not bind x-oss-forbid-overwrite:
// the sample frontends send a fixed set of fields, and a condition on a
// field they do not send would make OSS refuse every upload. The directory
// is new and random, so only the uploader can write into it, until the
// policy expires.
func (is *Issuer) IssueOSSSample(user string, req Request, now time.Time) (*OSSSample, error) {
	if len(req.Vars) > 0 {
		return nil, invalid("vars", "vars are not supported by the oss-sample format")
	}
	if v, err := ParseVersion(req.SignatureVersion); req.SignatureVersion != "" && (err != nil || v != V1) {
		return nil, invalid("signatureVersion", "the oss-sample format is signed with v1 only")
	}
	req.SignatureVersion = string(V1)
	u, err := is.prepare(user, req, now, true)
	if err != nil {
		return nil, err
	}
	p := New(u.expires)
	p.SetBucket(is.cfg.Bucket)
	p.AddCondition(StartsWith("key", u.key))
	p.SetContentLengthRange(1, req.Size)
	p.SetSuccessActionStatus("200")
	p.setEncodedCallback(u.callback)
	fields, err := is.signer.Sign(p, V1, now)
	if err != nil {
		return nil, err
	}
	return &OSSSample{
		AccessID:      fields["OSSAccessKeyId"],
		Host:          is.cfg.UploadURL,
		Policy:        fields["policy"],
		Signature:     fields["Signature"],
		Expire:        u.expires.Unix(),
		Callback:      fields["callback"],
		Dir:           u.key,
		SecurityToken: fields["x-oss-security-token"],
	}, nil
}
