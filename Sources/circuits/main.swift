print("circuits: see README.md")
