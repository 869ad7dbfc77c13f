// Package fielderr finds the per-field errors of a configuration's
// Validate in what it returned: one error, or an errors.Join of several.
package fielderr

import "errors"

// Collect returns every error of type T in err, which may be one or an
// errors.Join of several (nested joins too), in order; nil when there is
// none.
func Collect[T error](err error) []T {
	var out []T
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			var fe T
			if errors.As(err, &fe) {
				out = append(out, fe)
			}
		}
	}
	walk(err)
	return out
}
