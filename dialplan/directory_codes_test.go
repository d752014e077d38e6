package dialplan

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDirectoryCodeLists(t *testing.T) {
	dir, err := NewDirectory(DirectoryData{
		Regions: []Region{{Code: "MT", Name: "Miền Tây"}, {Code: "MB", Name: "Miền Bắc"}},
		Staff: []Staff{
			{Code: "OP2", Name: "B", Role: RoleOperator, Status: StatusActive, Hours: Schedule{Always: true}},
			{Code: "OP1", Name: "A", Role: RoleOperator, Status: StatusActive, Hours: Schedule{Always: true}},
		},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"MB", "MT"}, dir.RegionCodes())
	require.Equal(t, []string{"OP1", "OP2"}, dir.StaffCodes())
}
