// Worker module placeholder; see README.md in this folder.
