from hallserver.cli import main

raise SystemExit(main())
