package fielderr

import (
	"errors"
	"fmt"
	"testing"
)

type fieldErr struct{ field string }

func (e *fieldErr) Error() string { return e.field }

func TestCollect(t *testing.T) {
	a, b, c := &fieldErr{"A"}, &fieldErr{"B"}, &fieldErr{"C"}
	err := errors.Join(a, errors.New("other"), errors.Join(b, fmt.Errorf("wrapped: %w", c)))
	got := Collect[*fieldErr](err)
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Errorf("Collect = %v, want [A B C]", got)
	}
	if got := Collect[*fieldErr](nil); got != nil {
		t.Errorf("Collect(nil) = %v", got)
	}
	if got := Collect[*fieldErr](errors.New("x")); got != nil {
		t.Errorf("Collect(plain) = %v", got)
	}
}
