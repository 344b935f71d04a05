package badinput

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestError(t *testing.T) {
	e := &Error{Object: "cdc/t/partition=0/t+0+0000000010.json", Line: 3, Partition: 0, Offset: 12, Column: "qty", Reason: "300 does not fit int8"}
	assert.Equal(t, `bad input: cdc/t/partition=0/t+0+0000000010.json line 3 (partition 0, offset 12): column "qty": 300 does not fit int8`, e.Error())
	obj := &Error{Object: "cdc/t/readme.txt", Reason: "not a landed object", Err: errors.New("cause")}
	assert.Equal(t, "bad input: cdc/t/readme.txt: not a landed object: cause", obj.Error())
	wrapped := fmt.Errorf("batch 7: %w", e)
	assert.True(t, Is(wrapped))
	got, ok := As(wrapped)
	assert.True(t, ok)
	assert.Same(t, e, got)
	assert.False(t, Is(errors.New("network down")))
}
