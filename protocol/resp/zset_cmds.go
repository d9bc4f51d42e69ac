package resp

// zsetCommands returns the sortedset commands.
func zsetCommands() []*command { return nil }
