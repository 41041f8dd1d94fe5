"""The synthetic county: ``taizhang generate --persons N --seed S`` (see ``README.md`` here).

``simulate`` makes the county's people and events with NumPy (no database);
``write`` puts them into the register through its own write path;
``names`` holds the county's geography and the words its records use.
"""
