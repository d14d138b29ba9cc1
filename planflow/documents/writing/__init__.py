"""Writing documents that go out: plans and compiled reports, Excel report forms."""
