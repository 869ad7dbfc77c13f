package ossclient

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{AccessKeyID: testID, AccessKeySecret: testSecret, Region: testRegion, Bucket: testBucket}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" means valid; else a substring, the field's name
	}{
		{"minimal", func(*Config) {}, ""},
		{"oss- region prefix", func(c *Config) { c.Region = "oss-cn-shanghai" }, ""},
		{"internal endpoint", func(c *Config) { c.Endpoint = "https://oss-cn-hangzhou-internal.aliyuncs.com" }, ""},
		{"emulator endpoint", func(c *Config) { c.Endpoint = "http://127.0.0.1:9000"; c.UsePathStyle = true }, ""},
		{"endpoint trailing slash", func(c *Config) { c.Endpoint = "http://127.0.0.1:9000/" }, ""},
		{"v1", func(c *Config) { c.SignatureVersion = SignatureV1 }, ""},
		{"sts", func(c *Config) { c.SecurityToken = testToken }, ""},
		{"no retries", func(c *Config) { c.Retries = -1 }, ""},
		{"no id", func(c *Config) { c.AccessKeyID = "" }, "Config.AccessKeyID is required"},
		{"id with space", func(c *Config) { c.AccessKeyID = "LTAI x" }, "Config.AccessKeyID"},
		{"no secret", func(c *Config) { c.AccessKeySecret = "" }, "Config.AccessKeySecret is required"},
		{"token with newline", func(c *Config) { c.SecurityToken = "a\nb" }, "Config.SecurityToken"},
		{"no region", func(c *Config) { c.Region = "" }, "Config.Region is required"},
		{"only the prefix", func(c *Config) { c.Region = "oss-" }, "Config.Region is required"},
		{"bad region", func(c *Config) { c.Region = "CN_Hangzhou" }, "Config.Region"},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "Config.Bucket is required"},
		{"bad bucket", func(c *Config) { c.Bucket = "Example_Bucket" }, "Config.Bucket"},
		{"endpoint without scheme", func(c *Config) { c.Endpoint = "oss-cn-hangzhou.aliyuncs.com" }, "Config.Endpoint"},
		{"endpoint ftp", func(c *Config) { c.Endpoint = "ftp://oss-cn-hangzhou.aliyuncs.com" }, "Config.Endpoint"},
		{"endpoint userinfo", func(c *Config) { c.Endpoint = "https://u:p@oss-cn-hangzhou.aliyuncs.com" }, "Config.Endpoint must not carry"},
		{"endpoint path", func(c *Config) { c.Endpoint = "https://oss-cn-hangzhou.aliyuncs.com/bucket" }, "Config.Endpoint"},
		{"endpoint query", func(c *Config) { c.Endpoint = "https://oss-cn-hangzhou.aliyuncs.com?x=1" }, "Config.Endpoint"},
		{"signature v3", func(c *Config) { c.SignatureVersion = "v3" }, "Config.SignatureVersion"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Config.Timeout"},
		{"too many retries", func(c *Config) { c.Retries = MaxRetries + 1 }, "Config.Retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				if _, err := New(cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := New(cfg); err == nil {
				t.Fatal("New accepted a config Validate refuses")
			}
		})
	}
}

func TestConfigValidateListsEveryField(t *testing.T) {
	err := (&Config{Timeout: -1}).Validate()
	for _, field := range []string{"AccessKeyID", "AccessKeySecret", "Region", "Bucket", "Timeout"} {
		if err == nil || !strings.Contains(err.Error(), "Config."+field) {
			t.Errorf("Validate: %v, want it to name %s", err, field)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg := validConfig()
	cfg.Region = "oss-cn-beijing"
	if got, want := cfg.endpoint(), "https://oss-cn-beijing.aliyuncs.com"; got != want {
		t.Errorf("endpoint = %q, want %q", got, want)
	}
	if got := cfg.timeout(); got != DefaultTimeout {
		t.Errorf("timeout = %v, want %v", got, DefaultTimeout)
	}
	for _, tt := range []struct{ in, want int }{{0, DefaultRetries}, {-1, 0}, {3, 3}} {
		cfg.Retries = tt.in
		if got := cfg.retries(); got != tt.want {
			t.Errorf("retries(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestConfigAndClientFormatHideSecrets(t *testing.T) {
	cfg := validConfig()
	cfg.SecurityToken = testToken
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for name, v := range map[string]any{"Config": cfg, "*Config": &cfg, "*Client": c} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, testSecret) || strings.Contains(out, testToken) {
				t.Errorf("Sprintf(%s, %s) = %s: shows a secret", verb, name, out)
			}
		}
	}
	if out := fmt.Sprint(cfg); !strings.Contains(out, testID) || !strings.Contains(out, "[redacted]") {
		t.Errorf("Sprint(cfg) = %s, want the key id and [redacted]", out)
	}
}
