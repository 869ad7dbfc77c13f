package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ossgate/ossgate/api"
	"github.com/ossgate/ossgate/web"
)

// The drift tests: every route the server registers, every error code the
// code can answer with and every configuration variable config.go reads is
// named in the documents users read. Each failure names the item and the
// document that lacks it.

const (
	apiDoc       = "docs/API.md"
	readmeDoc    = "README.md"
	modulePrefix = "github.com/ossgate/ossgate/"
)

// codePackages are the packages whose Go source holds the API's error codes.
var codePackages = []string{"web", "policy", "callback"}

func TestDocsRoutes(t *testing.T) {
	doc := readDoc(t, apiDoc)
	spec, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("loading api/openapi.yaml: %v", err)
	}
	routes := serverRoutes(t)
	if len(routes) == 0 {
		t.Fatal("the server registers no routes: the collection is broken")
	}
	t.Logf("%d routes", len(routes))
	for _, r := range routes {
		if !mentionsRoute(doc, r.method, r.path) {
			t.Errorf("%s does not name route `%s %s`", apiDoc, r.method, r.path)
		}
		item := spec.Paths.Map()[r.path]
		switch {
		case item == nil:
			t.Errorf("api/openapi.yaml has no path %s (route %s %s)", r.path, r.method, r.path)
		case item.GetOperation(r.method) == nil:
			t.Errorf("api/openapi.yaml has no %s operation on %s", r.method, r.path)
		}
	}
}

func TestDocsErrorCodes(t *testing.T) {
	doc := readDoc(t, apiDoc)
	codes := errorCodes(t)
	for _, pkg := range codePackages {
		if !slices.ContainsFunc(codes, func(c foundCode) bool { return c.pkg == pkg }) {
			t.Errorf("no error code found in %s/: the extraction no longer matches the code's shape", pkg)
		}
	}
	where := map[string][]string{} // code -> where the source names it
	for _, c := range codes {
		where[c.code] = append(where[c.code], c.at)
	}
	for _, code := range slices.Sorted(maps.Keys(where)) {
		if !strings.Contains(doc, "`"+code+"`") {
			t.Errorf("%s does not name error code `%s` (%s)", apiDoc, code, strings.Join(where[code], ", "))
		}
	}
	t.Logf("%d error codes: %v", len(where), slices.Sorted(maps.Keys(where)))
}

func TestDocsConfigVariables(t *testing.T) {
	docs := map[string]string{apiDoc: readDoc(t, apiDoc), readmeDoc: readDoc(t, readmeDoc)}
	vars := configVariables(t)
	if len(vars) == 0 {
		t.Fatal("no configuration variable found in config.go: the extraction is broken")
	}
	t.Logf("%d configuration variables", len(vars))
	for _, name := range []string{apiDoc, readmeDoc} {
		for _, v := range vars {
			if !mentionsVariable(docs[name], v) {
				t.Errorf("%s does not name configuration variable %s", name, v)
			}
		}
	}
}

// TestDocsTestdataCopiesAgree: the known-answer vectors are copied into
// each package that loads them (testdata/README.md says how they were
// made); the copies must stay byte-identical.
func TestDocsTestdataCopiesAgree(t *testing.T) {
	copies := map[string][]string{
		"post-policy.json":        {"policy", "ossemu", "cmd/loadtest/baseline"},
		"callback-signature.json": {"callback", "ossemu"},
	}
	for name, dirs := range copies {
		first, err := os.ReadFile(filepath.Join(dirs[0], "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range dirs[1:] {
			other, err := os.ReadFile(filepath.Join(dir, "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, other) {
				t.Errorf("%s/testdata/%s differs from %s/testdata/%s", dir, name, dirs[0], name)
			}
		}
	}
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mentionsRoute: "METHOD /path" appears as a whole, e.g. in `GET /readyz`
// or `GET /api/uploads?limit=…`, not as the start of a longer path.
func mentionsRoute(doc, method, p string) bool {
	re := regexp.MustCompile("(^|[\\s`(|])" + method + " " + regexp.QuoteMeta(p) + "($|[\\s`?),|])")
	return re.MatchString(doc)
}

// mentionsVariable: the name appears, not as part of a longer name.
func mentionsVariable(doc, name string) bool {
	return regexp.MustCompile(`(^|[^A-Z0-9_])` + name + `($|[^A-Z0-9_])`).MatchString(doc)
}

type route struct{ method, path string }

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// serverRoutes starts ossgate as `go run .` does with no credentials (local
// mode, so the dev-token route and the demo page are wired too) and lists
// the routes of its Echo server, paths in the {id} spelling.
func serverRoutes(t *testing.T) []route {
	t.Helper()
	dir := t.TempDir()
	cfg, errs := loadConfig(envOf(map[string]string{
		"OSSGATE_ADDR":           "127.0.0.1:0",
		"OSSGATE_LOCAL_OSS_ADDR": "127.0.0.1:0",
		"OSSGATE_DB":             filepath.Join(dir, "ossgate.db"),
		"OSSGATE_LOCAL_OSS_DIR":  filepath.Join(dir, "oss"),
	}))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !cfg.Local {
		t.Fatal("the config is not in local mode")
	}
	a, err := start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv, ok := a.hs.Handler.(*web.Server)
	if !ok {
		t.Fatalf("the app's handler is a %T, not a *web.Server", a.hs.Handler)
	}
	var out []route
	for _, r := range srv.Routes() {
		out = append(out, route{r.Method, echoParam.ReplaceAllString(r.Path, "{$1}")})
	}
	slices.SortFunc(out, func(a, b route) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	return slices.Compact(out)
}

var configName = regexp.MustCompile(`^(OSS|OSSGATE)_[A-Z0-9_]+$`)

// configVariables are the string literals of config.go (and any other
// *config*.go of the root) that are environment variable names.
func configVariables(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*config*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := stringLit(n); ok && configName.MatchString(s) {
				out = append(out, s)
			}
			return true
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func stringLit(n ast.Node) (string, bool) {
	lit, ok := n.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// foundCode is one error code and where a package's source names it first.
type foundCode struct{ code, pkg, at string }

// goFile is one parsed source file of codePackages.
type goFile struct {
	pkg     string
	f       *ast.File
	imports map[string]string // local name -> dir, for codePackages only
}

// errorCodes reads the Go source (not the tests) of codePackages and
// returns every error code it can answer with. A code is found
//   - as a string constant whose name starts with Code/code or whose type's
//     name ends in Code (policy.CodeEmptyFile, callback.CodeInvalidTicket);
//   - in a code position, as a string literal or a reference to a string
//     constant of these packages: the first argument of a
//     new…Error/New…Error constructor (newError("code", msg)); the Code field of a struct literal;
//     the string side of a map entry whose other side holds an HTTP status
//     (map[string]int{"code": http.StatusX}, map[int]string{http.StatusX:
//     "code"}, a table keyed by code constants with {status, message}
//     values); a string assigned to a variable named code.
func errorCodes(t *testing.T) []foundCode {
	t.Helper()
	fset := token.NewFileSet()
	files := parsePackages(t, fset)
	consts := stringConsts(files)

	var out []foundCode
	seen := map[string]bool{}
	add := func(code, pkg string, pos token.Pos) {
		if k := pkg + " " + code; !seen[k] {
			seen[k] = true
			out = append(out, foundCode{code, pkg, fset.Position(pos).String()})
		}
	}
	for _, gf := range files {
		for _, vs := range constSpecs(gf.f) {
			for _, id := range vs.Names {
				if s, ok := consts[gf.pkg][id.Name]; ok && isCodeConst(id.Name, vs.Type) {
					add(s, gf.pkg, id.Pos())
				}
			}
		}
		// code records e when it names a fixed string; a reference to one of
		// codePackages that is not a string constant is a failure, so that a
		// code the test cannot read is never passed over in silence.
		code := func(e ast.Expr) bool {
			s, ok := resolve(e, gf.pkg, gf.imports, consts)
			if ok {
				add(s, gf.pkg, e.Pos())
			} else if sel, isSel := e.(*ast.SelectorExpr); isSel {
				if x, isIdent := sel.X.(*ast.Ident); isIdent && gf.imports[x.Name] != "" {
					t.Errorf("%s: %s.%s is used as an error code but is not a string constant this test can read",
						fset.Position(e.Pos()), x.Name, sel.Sel.Name)
				}
			}
			return ok
		}
		ast.Inspect(gf.f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if isErrorConstructor(n.Fun) && len(n.Args) > 0 {
					code(n.Args[0]) // newError(code, message)
				}
			case *ast.CompositeLit:
				_, isMap := n.Type.(*ast.MapType)
				for _, el := range n.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					switch {
					case !ok:
					case isMap && holdsStatus(kv.Value):
						code(kv.Key)
					case isMap && holdsStatus(kv.Key):
						code(kv.Value)
					case !isMap && isIdent(kv.Key, "Code"):
						code(kv.Value)
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if id, ok := lhs.(*ast.Ident); ok && strings.EqualFold(id.Name, "code") && i < len(n.Rhs) {
						code(n.Rhs[i])
					}
				}
			}
			return true
		})
	}
	return out
}

func parsePackages(t *testing.T, fset *token.FileSet) []goFile {
	t.Helper()
	var files []goFile
	for _, pkg := range codePackages {
		names, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			imports := map[string]string{}
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				dir, ok := strings.CutPrefix(p, modulePrefix)
				if !ok || !slices.Contains(codePackages, dir) {
					continue
				}
				local := path.Base(dir)
				if im.Name != nil {
					local = im.Name.Name
				}
				imports[local] = dir
			}
			files = append(files, goFile{pkg, f, imports})
		}
	}
	return files
}

func constSpecs(f *ast.File) []*ast.ValueSpec {
	var out []*ast.ValueSpec
	for _, decl := range f.Decls {
		if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				out = append(out, spec.(*ast.ValueSpec))
			}
		}
	}
	return out
}

// stringConsts maps dir -> name -> value for every string constant of
// codePackages, including those defined as another one
// (codeNotFound = policy.CodeNotFound).
func stringConsts(files []goFile) map[string]map[string]string {
	consts := map[string]map[string]string{}
	for _, pkg := range codePackages {
		consts[pkg] = map[string]string{}
	}
	for progress := true; progress; {
		progress = false
		for _, gf := range files {
			for _, vs := range constSpecs(gf.f) {
				for i, id := range vs.Names {
					if _, done := consts[gf.pkg][id.Name]; done || i >= len(vs.Values) {
						continue
					}
					if s, ok := resolve(vs.Values[i], gf.pkg, gf.imports, consts); ok {
						consts[gf.pkg][id.Name] = s
						progress = true
					}
				}
			}
		}
	}
	return consts
}

// resolve gives the string e names: a string literal, or a string constant
// of codePackages. Anything else (a variable, a call) is not a fixed string.
func resolve(e ast.Expr, pkg string, imports map[string]string, consts map[string]map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		return stringLit(e)
	case *ast.Ident:
		s, ok := consts[pkg][e.Name]
		return s, ok
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && imports[x.Name] != "" {
			s, ok := consts[imports[x.Name]][e.Sel.Name]
			return s, ok
		}
	}
	return "", false
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

var codeConstName = regexp.MustCompile(`^[Cc]ode[A-Z0-9_]`)

// isCodeConst: a constant named CodeX/codeX, or of a type named …Code.
func isCodeConst(name string, typ ast.Expr) bool {
	if codeConstName.MatchString(name) {
		return true
	}
	switch typ := typ.(type) {
	case *ast.Ident:
		return strings.HasSuffix(typ.Name, "Code")
	case *ast.SelectorExpr:
		return strings.HasSuffix(typ.Sel.Name, "Code")
	}
	return false
}

var errorConstructor = regexp.MustCompile(`^[Nn]ew[A-Za-z0-9]*Error$`)

func isErrorConstructor(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.Ident:
		return errorConstructor.MatchString(f.Name)
	case *ast.SelectorExpr:
		return errorConstructor.MatchString(f.Sel.Name)
	}
	return false
}

// holdsStatus: e is an HTTP status (http.StatusX or a literal 100..599),
// or a composite literal holding one ({status, message} table values).
func holdsStatus(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && x.Name == "http" && strings.HasPrefix(e.Sel.Name, "Status")
	case *ast.BasicLit:
		n, err := strconv.Atoi(e.Value)
		return e.Kind == token.INT && err == nil && n >= 100 && n <= 599
	case *ast.CompositeLit:
		return slices.ContainsFunc(e.Elts, holdsStatus)
	case *ast.KeyValueExpr:
		return holdsStatus(e.Value)
	case *ast.UnaryExpr:
		return holdsStatus(e.X)
	}
	return false
}
