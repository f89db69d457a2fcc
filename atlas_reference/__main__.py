from atlas_reference.cli import main

raise SystemExit(main())
