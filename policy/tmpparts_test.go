package policy
import ("testing";"encoding/base64";"crypto/sha256")
func BenchmarkPartJSON(b *testing.B) { p := benchPolicy(b); buf := make([]byte, 0, 4096); for b.Loop() { buf, _ = p.appendDocument(buf[:0], nil) } }
func BenchmarkPartB64(b *testing.B) { p := benchPolicy(b); j, _ := p.JSON(); out := make([]byte, 4096); for b.Loop() { base64.StdEncoding.Encode(out, j) } }
func BenchmarkPartHMAC(b *testing.B) { msg := make([]byte, 1776); k := make([]byte, 32); b.ReportAllocs(); for b.Loop() { hmacSHA256(k, msg) } }
func BenchmarkPartSHA(b *testing.B) { msg := make([]byte, 1776+64); for b.Loop() { sha256.Sum256(msg) } }
func BenchmarkPartMap(b *testing.B) { b.ReportAllocs(); for b.Loop() { m := make(map[string]string, 13); for _, k := range []string{"a","b","c","d","e","f","g","h","i","j","k","l"} { m[k] = k } } }
func BenchmarkPartKey(b *testing.B) { b.ReportAllocs(); for b.Loop() { signingKeyV4("secret", []byte("20261125"), "cn-hangzhou") } }
