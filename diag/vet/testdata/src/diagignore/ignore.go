package diagignore

func f() {
	//diag:ignore the reason is here
	_ = 1
	// want +1 `//diag:ignore without a reason suppresses nothing: say why the call cannot hang`
	//diag:ignore
	_ = 2
	_ = 3 /* want `without a reason` */ //diag:ignore
	_ = 4 //diag:ignored is not ours
}
