package resp

// listCommands returns the list commands.
func listCommands() []*command { return nil }
