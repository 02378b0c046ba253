"""The sales-line model lives in the ``sales`` app from ``sales.0001`` on: sop forgets it
(state only; the table ``sop_salesorderline`` and its data stay)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sop', '0009_demand_plan_no_territory'),
        ('sales', '0001_initial'),
        ('compensation', '0002_credit_sales_line_in_sales_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name='SalesOrderLine')]),
    ]
