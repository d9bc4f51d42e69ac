package resp

// setCommands returns the set commands.
func setCommands() []*command { return nil }
